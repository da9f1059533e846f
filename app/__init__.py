"""smart-embedder: embeddings (bge-m3 dense, sparse, ColBERT; Qwen3) and reranking over HTTP."""

import os

__version__ = "0.1.0"

# Must be set before torch loads OpenMP. Spinning OpenMP threads (the default) collapse when
# any other thread wants a core — the event loop, the tokenizer, a sidecar: measured on a
# 2-core pod, MiniLM fell from 93 to 14 texts/s. Sleeping at barriers costs almost nothing.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
