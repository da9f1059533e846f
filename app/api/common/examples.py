"""What a "Try it out" example of the OpenAPI document is, and the texts the families' examples
share. Each family's ``examples.py`` lists its own; ``app.api.openapi.examples`` puts them on
the document.

Each is a body that the route answers with a 200 on any server that has the models it needs
(``needs``): on the default models (bge-m3 and bge-reranker-v2-m3) every one, on the offline
preset (MiniLM dense, SPLADE sparse, no reranker) those that need no reranker and no ColBERT
model. They ask for no vector type by name that a model set may lack, name no model (the
route's own is used), and send or decode only token ids that every served vocabulary has.
``tests/api/test_openapi_examples.py`` sends each one to a running server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import Example

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


#: (method, path as the document names it) → example name → example
Examples = dict[tuple[str, str], dict[str, BodyExample]]

NEEDS_RERANKER: frozenset[Role] = frozenset({"rerank"})
NEEDS_COLBERT: frozenset[Role] = frozenset({"colbert"})
QUERY = "What is BGE M3?"
PASSAGES = [
    "BGE M3 is an embedding model supporting dense retrieval, lexical matching and "
    "multi-vector interaction.",
    "BM25 is a bag-of-words retrieval function that ranks documents by the query terms.",
]
#: consecutive chunks of one document, the later ones naming its subject only by "it"
DOCUMENT_CHUNKS = [
    "BGE M3 is an embedding model from the Beijing Academy of Artificial Intelligence.",
    "It reads up to 8192 tokens in over 100 languages.",
    "It gives dense, sparse and multi-vector representations from one pass.",
]
