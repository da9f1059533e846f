"""Cohere's (and Jina's) API: ``/v1/embed``, ``/v2/embed``, ``/v1/rerank`` and ``/v2/rerank``:
their routes, bodies and examples."""
