"""Which backend serves a model, decided from the model's own files (a table, first match wins).

Each family's front (``app.models.fronts``) has ``matches(model_dir) -> bool``; order matters
where two could match (bge-m3 is an XLM-R encoder with extra head files, so it comes before
generic encoders). The table holds fronts, so deciding (``preflight`` in the API process)
imports no torch; ``engine_backend`` names the torch class that loads one, imported only
where the models are loaded.
"""

from __future__ import annotations

import importlib
from typing import Literal, Protocol

from app.errors import ModelLoadError
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.fronts.bge_m3 import BgeM3Front
from app.models.fronts.cross_encoder import CrossEncoderFront
from app.models.fronts.qwen3_embedding import Qwen3EmbeddingFront
from app.models.fronts.qwen3_reranker import Qwen3RerankerFront
from app.models.fronts.sentence_transformer import SentenceTransformerFront
from app.models.fronts.splade import SpladeFront
from app.models.source import ModelDir

Role = Literal["dense", "sparse", "colbert", "rerank"]


class _Matcher(Protocol):
    kind: str

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool: ...


# Qwen3-Embedding ships modules.json too, so it comes before the generic sentence-transformers
# backend; SPLADE gives only sparse vectors, so it is asked only for the sparse role.
EMBEDDING_BACKENDS: list[type[EmbeddingBackend]] = [
    BgeM3Front,
    Qwen3EmbeddingFront,
    SentenceTransformerFront,
    SpladeFront,
]
RERANK_BACKENDS: list[type[RerankBackend]] = [CrossEncoderFront, Qwen3RerankerFront]

#: each front's engine backend (torch), as ``module:class``: imported only to load a model
_ENGINE_BACKENDS = {
    BgeM3Front: "app.models.bge_m3:BgeM3Backend",
    Qwen3EmbeddingFront: "app.models.qwen3_embedding:Qwen3EmbeddingBackend",
    SentenceTransformerFront: "app.models.sentence_transformer:SentenceTransformerBackend",
    SpladeFront: "app.models.splade:SpladeBackend",
    CrossEncoderFront: "app.models.cross_encoder:CrossEncoderBackend",
    Qwen3RerankerFront: "app.models.qwen3_reranker:Qwen3RerankerBackend",
}


def embedding_front_for(model_dir: ModelDir, role: Role) -> type[EmbeddingBackend]:
    """The front of the family that serves this model's ``role`` (torch-free)."""
    head = Head(role)
    for backend in EMBEDDING_BACKENDS:
        if head in backend.heads and backend.matches(model_dir):  # type: ignore[attr-defined]
            return backend
    raise _unsupported(model_dir, role, [b.kind for b in EMBEDDING_BACKENDS if head in b.heads])


def rerank_front_for(model_dir: ModelDir) -> type[RerankBackend]:
    """The front of the family that reranks with this model (torch-free)."""
    for backend in RERANK_BACKENDS:
        if backend.matches(model_dir):  # type: ignore[attr-defined]
            return backend
    raise _unsupported(model_dir, "rerank", [b.kind for b in RERANK_BACKENDS])


def embedding_backend_for(model_dir: ModelDir, role: Role) -> type[EmbeddingBackend]:
    """The engine class that loads this model for ``role`` (imports torch)."""
    backend: type[EmbeddingBackend] = engine_backend(embedding_front_for(model_dir, role))
    return backend


def rerank_backend_for(model_dir: ModelDir) -> type[RerankBackend]:
    """The engine class that loads this reranker (imports torch)."""
    backend: type[RerankBackend] = engine_backend(rerank_front_for(model_dir))
    return backend


def _unsupported(model_dir: ModelDir, role: str, kinds: list[str]) -> ModelLoadError:
    described = f"model_type={model_dir.model_type or '?'}"
    if model_dir.architectures:
        described += f", architectures={','.join(model_dir.architectures)}"
    return ModelLoadError(
        f"model {model_dir.ref} ({described}) is not a supported {role} model; "
        f"supported: {', '.join(kinds) or 'none'}"
    )


def engine_backend(front: type[EmbeddingBackend] | type[RerankBackend]) -> type:
    """The class that loads a model of this family with its weights (imports torch)."""
    module_name, _, class_name = _ENGINE_BACKENDS[front].partition(":")
    backend: type = getattr(importlib.import_module(module_name), class_name)
    return backend


def front_of(backend: EmbeddingBackend | RerankBackend) -> type:
    """The torch-free class of a loaded backend: what the API process gets of it."""
    for cls in type(backend).__mro__:
        if cls in _ENGINE_BACKENDS:
            return cls
    raise TypeError(f"{type(backend).__name__} has no front in app.models.fronts")
