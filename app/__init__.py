"""smart-embedder: embeddings (bge-m3 dense, sparse, ColBERT; Qwen3) and reranking over HTTP."""

__version__ = "0.1.0"
