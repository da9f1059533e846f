"""OpenAI's API: ``/v1/embeddings`` and ``/v1/models``: its routes, bodies and examples."""
