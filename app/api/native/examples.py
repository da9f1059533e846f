"""Try-it-out examples of the native routes: ``/embeddings``, ``/rerank`` (its own body and
TEI's) and ``/hybrid_score``."""

from __future__ import annotations

from app.api.common.examples import (
    DOCUMENT_CHUNKS,
    NEEDS_COLBERT,
    NEEDS_RERANKER,
    PASSAGES,
    QUERY,
    BodyExample,
    Examples,
)

EXAMPLES: Examples = {
    ("post", "/embeddings"): {
        "documents": BodyExample(
            "Every vector type the served models give", {"sentences": PASSAGES}
        ),
        "query": BodyExample(
            "A query, dense and sparse, sparse in Qdrant's shape",
            {
                "sentences": [QUERY],
                "return_dense": True,
                "return_sparse": True,
                "sparse_as_indices": True,
                "normalize_dense": True,
                "input_type": "query",
            },
        ),
        "indexer": BodyExample(
            "An indexer's chunks, in the batch class: cut after interactive work",
            {"sentences": PASSAGES, "return_dense": True, "priority": "batch"},
        ),
        "pooled colbert": BodyExample(
            "Documents' ColBERT vectors, pooled by 2, as float16",
            {
                "sentences": PASSAGES,
                "return_dense": False,
                "return_sparse": False,
                "colbert_pool_factor": 2,
                "colbert_type": "float16",
            },
            NEEDS_COLBERT,
        ),
        "chunked document": BodyExample(
            "A document cut into chunks of at most 16 tokens, late chunking",
            {
                "sentences": [" ".join(DOCUMENT_CHUNKS)],
                "chunking": {"max_tokens": 16, "overlap_tokens": 4, "late": True},
            },
        ),
    },
    ("post", "/rerank"): {
        "native": BodyExample(
            "The original service's body",
            {"query": QUERY, "passages": PASSAGES, "top_n": 2, "normalize": True},
            NEEDS_RERANKER,
        ),
        "tei": BodyExample(
            "Hugging Face TEI's body (`texts`)",
            {"query": QUERY, "texts": PASSAGES, "return_text": True},
            NEEDS_RERANKER,
        ),
    },
    ("post", "/hybrid_score"): {
        "default weights": BodyExample(
            "bge-m3's three scores and their weighted mean",
            {"query": QUERY, "passages": PASSAGES},
            NEEDS_COLBERT,
        ),
    },
}
