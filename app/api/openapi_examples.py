"""The request examples of the OpenAPI document: what Swagger UI's "Try it out" sends.

Each is a body that the route answers with a 200 on any server that has the models it needs
(``needs``): on the default models (bge-m3 and bge-reranker-v2-m3) every one, on the offline
preset (MiniLM dense, SPLADE sparse, no reranker) those that need no reranker and no ColBERT
model. They ask for no vector type by name that a model set may lack, name no model (the
route's own is used), and decode only token ids that every served vocabulary has.
``tests/api/test_openapi_examples.py`` sends each one to a running server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import Example, OpenAPIMediaType, Operation, RequestBody

from app.models.registry import Role


@dataclass(frozen=True)
class BodyExample:
    summary: str
    value: dict[str, Any]
    #: the model roles the route needs beyond a dense model (the offline preset's)
    needs: frozenset[Role] = frozenset()

    def as_openapi(self) -> Example:
        needed = " and ".join(sorted(self.needs))
        note = f"Needs a {needed} model (the offline preset has none)." if needed else None
        return Example(summary=self.summary, description=note, value=self.value)


_RERANK: frozenset[Role] = frozenset({"rerank"})
_QUERY = "What is BGE M3?"
_PASSAGES = [
    "BGE M3 is an embedding model supporting dense retrieval, lexical matching and "
    "multi-vector interaction.",
    "BM25 is a bag-of-words retrieval function that ranks documents by the query terms.",
]
_TEI_TEXTS = {"inputs": ["What is Deep Learning?", "Deep learning is a kind of machine learning."]}
#: consecutive chunks of one document, the later ones naming its subject only by "it"
_DOCUMENT_CHUNKS = [
    "BGE M3 is an embedding model from the Beijing Academy of Artificial Intelligence.",
    "It reads up to 8192 tokens in over 100 languages.",
    "It gives dense, sparse and multi-vector representations from one pass.",
]

#: (method, path as the document names it) → example name → example
EXAMPLES: dict[tuple[str, str], dict[str, BodyExample]] = {
    ("post", "/embeddings"): {
        "documents": BodyExample(
            "Every vector type the served models give", {"sentences": _PASSAGES}
        ),
        "query": BodyExample(
            "A query, dense and sparse, sparse in Qdrant's shape",
            {
                "sentences": [_QUERY],
                "return_dense": True,
                "return_sparse": True,
                "sparse_as_indices": True,
                "normalize_dense": True,
                "input_type": "query",
            },
        ),
        "chunked document": BodyExample(
            "A document cut into chunks of at most 16 tokens, late chunking",
            {
                "sentences": [" ".join(_DOCUMENT_CHUNKS)],
                "chunking": {"max_tokens": 16, "overlap_tokens": 4, "late": True},
            },
        ),
    },
    ("post", "/rerank"): {
        "native": BodyExample(
            "The original service's body",
            {"query": _QUERY, "passages": _PASSAGES, "top_n": 2, "normalize": True},
            _RERANK,
        ),
        "tei": BodyExample(
            "Hugging Face TEI's body (`texts`)",
            {"query": _QUERY, "texts": _PASSAGES, "return_text": True},
            _RERANK,
        ),
    },
    ("post", "/v1/embeddings"): {
        "texts": BodyExample(
            "Two texts; no model named: the dense model served here", {"input": _PASSAGES}
        ),
        "base64": BodyExample(
            "One text, base64 float32", {"input": _QUERY, "encoding_format": "base64"}
        ),
        "late chunking": BodyExample(
            "Jina's late chunking: consecutive chunks of one document, one vector each",
            {"input": _DOCUMENT_CHUNKS, "late_chunking": True},
        ),
    },
    ("post", "/embed"): {"texts": BodyExample("Two texts", _TEI_TEXTS)},
    ("post", "/"): {"texts": BodyExample("Two texts (as /embed)", _TEI_TEXTS)},
    ("post", "/invocations"): {"texts": BodyExample("Two texts (as /embed)", _TEI_TEXTS)},
    ("post", "/embed_sparse"): {"texts": BodyExample("Two texts", _TEI_TEXTS)},
    ("post", "/embed_all"): {
        "texts": BodyExample("Per-token vectors", _TEI_TEXTS, frozenset({"colbert"}))
    },
    ("post", "/similarity"): {
        "texts": BodyExample(
            "One text against two",
            {"inputs": {"source_sentence": _QUERY, "sentences": _PASSAGES}},
        )
    },
    ("post", "/predict"): {
        "pairs": BodyExample(
            "(query, text) pairs", {"inputs": [[_QUERY, text] for text in _PASSAGES]}, _RERANK
        )
    },
    ("post", "/tokenize"): {
        "text": BodyExample("One text", {"inputs": _QUERY, "add_special_tokens": True})
    },
    ("post", "/decode"): {
        "ids": BodyExample(
            "Token ids (any vocabulary of 3,000 tokens has them)",
            {"ids": [1000, 2000, 2999], "skip_special_tokens": True},
        )
    },
}
_COMPAT_RERANK = {
    "documents": BodyExample(
        "Texts, the two best with their documents",
        {"query": _QUERY, "documents": _PASSAGES, "top_n": 2, "return_documents": True},
        _RERANK,
    )
}
EXAMPLES[("post", "/hybrid_score")] = {
    "default weights": BodyExample(
        "bge-m3's three scores and their weighted mean",
        {"query": _QUERY, "passages": _PASSAGES},
        frozenset({"colbert"}),
    ),
}
EXAMPLES[("post", "/v1/embed")] = {
    "quantized": BodyExample(
        "Float, int8 and sign-bit vectors of two documents",
        {
            "texts": _PASSAGES,
            "input_type": "search_document",
            "embedding_types": ["float", "int8", "ubinary"],
        },
    ),
}
EXAMPLES[("post", "/v2/embed")] = {
    "query": BodyExample(
        "A query as float and int8",
        {"texts": [_QUERY], "input_type": "search_query", "embedding_types": ["float", "int8"]},
    ),
}
EXAMPLES[("post", "/v1/rerank")] = _COMPAT_RERANK
EXAMPLES[("post", "/v2/rerank")] = _COMPAT_RERANK


def document_request_examples(app: Litestar) -> None:
    """Put each route's examples on its JSON body (an ``on_startup`` hook, after the bodies
    are in place: ``app.api.openapi_bodies``)."""
    paths = app.openapi_schema.paths or {}
    for (method, path), examples in EXAMPLES.items():
        item = paths.get(path)
        operation: Operation | None = getattr(item, method, None) if item is not None else None
        body = operation.request_body if operation is not None else None
        media = body.content.get("application/json") if isinstance(body, RequestBody) else None
        if not isinstance(media, OpenAPIMediaType):
            raise RuntimeError(f"{method.upper()} {path} has no JSON body to give examples to")
        media.examples = {name: example.as_openapi() for name, example in examples.items()}
