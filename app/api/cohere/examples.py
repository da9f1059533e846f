"""Try-it-out examples of the Cohere routes: ``/v1/embed``, ``/v2/embed`` and the Cohere/Jina
rerank routes."""

from __future__ import annotations

from app.api.common.examples import NEEDS_RERANKER, PASSAGES, QUERY, BodyExample, Examples

_RERANK = {
    "documents": BodyExample(
        "Texts, the two best with their documents",
        {"query": QUERY, "documents": PASSAGES, "top_n": 2, "return_documents": True},
        NEEDS_RERANKER,
    )
}

EXAMPLES: Examples = {
    ("post", "/v1/embed"): {
        "quantized": BodyExample(
            "Float, int8 and sign-bit vectors of two documents",
            {
                "texts": PASSAGES,
                "input_type": "search_document",
                "embedding_types": ["float", "int8", "ubinary"],
            },
        ),
    },
    ("post", "/v2/embed"): {
        "query": BodyExample(
            "A query as float and int8",
            {"texts": [QUERY], "input_type": "search_query", "embedding_types": ["float", "int8"]},
        ),
    },
    ("post", "/v1/rerank"): _RERANK,
    ("post", "/v2/rerank"): _RERANK,
}
