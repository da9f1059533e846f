"""The operations routes, never behind the token: ``/livez``, ``/readyz``, ``/health``,
``/stats``, ``/metrics`` (added up across API processes) and the API reference at ``/docs``."""
