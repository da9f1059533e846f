"""The original smart-embedder API: ``/embeddings/``, ``/rerank`` and ``/hybrid_score``:
its routes, bodies and OpenAPI examples."""
