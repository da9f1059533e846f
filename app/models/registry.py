"""Which backend serves a model, decided from the model's own files (a table, first match wins).

Each backend class has ``matches(model_dir) -> bool``; order matters where two could match
(bge-m3 is an XLM-R encoder with extra head files, so it comes before generic encoders).
"""

from __future__ import annotations

from typing import Literal, Protocol

from app.errors import ModelLoadError
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.bge_m3 import BgeM3Backend
from app.models.cross_encoder import CrossEncoderBackend
from app.models.qwen3_embedding import Qwen3EmbeddingBackend
from app.models.qwen3_reranker import Qwen3RerankerBackend
from app.models.sentence_transformer import SentenceTransformerBackend
from app.models.source import ModelDir
from app.models.splade import SpladeBackend

Role = Literal["dense", "sparse", "colbert", "rerank"]


class _Matcher(Protocol):
    kind: str

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool: ...


# Qwen3-Embedding ships modules.json too, so it comes before the generic sentence-transformers
# backend; SPLADE gives only sparse vectors, so it is asked only for the sparse role.
EMBEDDING_BACKENDS: list[type[EmbeddingBackend]] = [
    BgeM3Backend,
    Qwen3EmbeddingBackend,
    SentenceTransformerBackend,
    SpladeBackend,
]
RERANK_BACKENDS: list[type[RerankBackend]] = [CrossEncoderBackend, Qwen3RerankerBackend]


def embedding_backend_for(model_dir: ModelDir, role: Role) -> type[EmbeddingBackend]:
    head = Head(role)
    for backend in EMBEDDING_BACKENDS:
        if head in backend.heads and backend.matches(model_dir):  # type: ignore[attr-defined]
            return backend
    raise _unsupported(model_dir, role, [b.kind for b in EMBEDDING_BACKENDS if head in b.heads])


def rerank_backend_for(model_dir: ModelDir) -> type[RerankBackend]:
    for backend in RERANK_BACKENDS:
        if backend.matches(model_dir):  # type: ignore[attr-defined]
            return backend
    raise _unsupported(model_dir, "rerank", [b.kind for b in RERANK_BACKENDS])


def _unsupported(model_dir: ModelDir, role: str, kinds: list[str]) -> ModelLoadError:
    described = f"model_type={model_dir.model_type or '?'}"
    if model_dir.architectures:
        described += f", architectures={','.join(model_dir.architectures)}"
    return ModelLoadError(
        f"model {model_dir.ref} ({described}) is not a supported {role} model; "
        f"supported: {', '.join(kinds) or 'none'}"
    )
