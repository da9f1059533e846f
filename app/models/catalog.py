"""The set of models a server runs, built from settings: which backend gives each vector
type, and the reranker. One instance per distinct model, so bge-m3 serving dense, sparse
and ColBERT is loaded once and runs once per batch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from app.errors import ModelLoadError
from app.models import naming
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.naming import ServedNames, parse_names
from app.models.presets import ModelChoice, offline_choice
from app.models.registry import Role, embedding_front_for, rerank_front_for
from app.models.source import ModelDir, locate
from app.settings import Settings


@dataclass
class ModelSet:
    by_head: dict[Head, EmbeddingBackend] = field(default_factory=dict)
    reranker: RerankBackend | None = None

    def embedding_backends(self) -> list[EmbeddingBackend]:
        unique: dict[int, EmbeddingBackend] = {}
        for backend in self.by_head.values():
            unique.setdefault(id(backend), backend)
        return list(unique.values())

    def backends(self) -> list[EmbeddingBackend | RerankBackend]:
        """Every distinct model, embedding models first: the numbering the engine uses."""
        reranker = [self.reranker] if self.reranker is not None else []
        return [*self.embedding_backends(), *reranker]

    def name_for(self, head: Head) -> str | None:
        backend = self.by_head.get(head)
        return backend.name if backend else None


def model_choice(settings: Settings) -> ModelChoice:
    if settings.preset == "offline":
        refs = _override_preset(offline_choice(), settings)
    else:
        refs = ModelChoice(
            bge_m3=settings.bge_m3_model,
            dense=settings.dense_embedding_model,
            sparse=settings.sparse_embedding_model,
            reranker=settings.reranker_model,
        )
    return replace(
        refs,
        bge_m3_served=parse_names(settings.bge_m3_served_model_name),
        dense_served=parse_names(settings.dense_served_model_name),
        sparse_served=parse_names(settings.sparse_served_model_name),
        reranker_served=parse_names(settings.reranker_served_model_name),
    )


def _override_preset(preset: ModelChoice, settings: Settings) -> ModelChoice:
    """A model setting (flag or env var) that differs from its default replaces that role.

    Dropping it silently would start a server without the model the operator asked for.
    """
    defaults = Settings()
    changes = {
        role: value
        for role, field_name in _ROLE_SETTINGS
        if (value := getattr(settings, field_name)) != getattr(defaults, field_name)
    }
    return replace(preset, **changes)


_ROLE_SETTINGS = (
    ("bge_m3", "bge_m3_model"),
    ("dense", "dense_embedding_model"),
    ("sparse", "sparse_embedding_model"),
    ("reranker", "reranker_model"),
)


@lru_cache(maxsize=16)
def served_names(settings: Settings) -> ServedNames:
    """The names every configured model answers to (``app.models.naming``).

    Cached: the API asks on every request that names a model, and settings are frozen.
    """
    choice = model_choice(settings)
    return naming.served_names(choice, planned_roles(choice))


def planned_roles(choice: ModelChoice) -> list[tuple[Role, str]]:
    """(role, ref) for every vector type and the reranker, in loading order."""
    plan: list[tuple[Role, str]] = []
    for role, ref in (
        ("dense", choice.dense or choice.bge_m3),
        ("sparse", choice.sparse or choice.bge_m3),
        ("colbert", choice.bge_m3),
        ("rerank", choice.reranker),
    ):
        if ref:
            plan.append((role, ref))  # type: ignore[arg-type]
    if not plan:
        raise ModelLoadError("no model configured: set BGE_M3_MODEL or DENSE_EMBEDDING_MODEL")
    return plan


def preflight(settings: Settings) -> list[str]:
    """Check every model that is already on disk (local dirs, cached snapshots) before serving.

    Catches a missing directory or an unsupported model in a second, with one clear line;
    hub models not yet cached are checked after their download, while the server runs.
    Returns the refs that still need a download.
    """
    choice = model_choice(settings)
    served_names(settings)  # two models given one name fail here, before the port opens
    pending: list[str] = []
    for role, ref in planned_roles(choice):
        try:
            model_dir = locate(
                ref,
                revision=settings.model_revision,
                cache_dir=settings.model_cache_dir,
                download=False,
            )
        except ModelLoadError:
            if _is_local_ref(ref):
                raise
            if ref not in pending:  # bge-m3 serves three roles: one download
                pending.append(ref)
            continue
        _front_class(model_dir, role)
    return pending


def _is_local_ref(ref: str) -> bool:
    from app.models.source import looks_like_path

    return looks_like_path(ref)


def _front_class(model_dir: ModelDir, role: Role) -> type[EmbeddingBackend] | type[RerankBackend]:
    """The family's torch-free front: enough to say whether the model is supported."""
    if role == "rerank":
        return rerank_front_for(model_dir)
    return embedding_front_for(model_dir, role)
