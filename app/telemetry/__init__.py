"""Counters, metrics and traces. ``Recorder`` is the one object the rest of the app reports to."""
