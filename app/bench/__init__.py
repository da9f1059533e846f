"""The benchmark: `python -m app.bench` (SPEC §8)."""
