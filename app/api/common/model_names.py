"""Which served model a request's ``model`` names (SPEC §1.2, served names), for the ``/v1``
routes: OpenAI embeddings and models, Cohere/Jina rerank.

The names come from the settings (``app.models.naming``), the roles from the loaded models;
a model set that does not match its settings (tests build some by hand) goes by each
backend's own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.errors import InvalidInput, ServiceError
from app.models.base import EmbeddingBackend, RerankBackend
from app.models.catalog import ModelSet, served_names
from app.models.registry import Role
from app.settings import Settings

_ROLE_ORDER: tuple[Role, ...] = ("dense", "sparse", "colbert", "rerank")


class ModelNotFound(ServiceError):
    """The request names a model this server does not serve (OpenAI answers 404)."""

    status_code = 404
    error_type = "invalid_request_error"


@dataclass
class ServedBackend:
    backend: EmbeddingBackend | RerankBackend
    root: str  #: the configured hub id or directory
    names: tuple[str, ...]  #: every name it answers to; the first is the one responses report
    roles: list[Role] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[0]


def served_models(settings: Settings, models: ModelSet) -> list[ServedBackend]:
    """Every loaded model once, in role order, with its roles here and its names."""
    pairs: list[tuple[Role, EmbeddingBackend | RerankBackend]] = [
        (head.value, backend) for head, backend in models.by_head.items()
    ]
    if models.reranker is not None:
        pairs.append(("rerank", models.reranker))
    names = served_names(settings)
    served: dict[int, ServedBackend] = {}
    for role, backend in sorted(pairs, key=lambda p: _ROLE_ORDER.index(p[0])):
        entry = served.get(id(backend))
        if entry is None:
            planned = names.for_role(role)
            if planned is not None and backend.name in planned.names:
                entry = ServedBackend(backend, planned.ref, planned.names)
            else:
                entry = ServedBackend(backend, backend.name, (backend.name,))
            served[id(backend)] = entry
        entry.roles.append(role)
    return list(served.values())


def find_model(served: list[ServedBackend], requested: str) -> ServedBackend | None:
    return next((entry for entry in served if requested in entry.names), None)


def not_found(served: list[ServedBackend], requested: str) -> ModelNotFound:
    listed = ", ".join(f"'{name}'" for entry in served for name in entry.names)
    return ModelNotFound(
        f"model '{requested}' is not served here; served models: {listed}", param="model"
    )


def resolve_model(
    settings: Settings, models: ModelSet, requested: str | None, *, role: Role
) -> str:
    """The name a response for ``role`` reports, once ``requested`` is known to name the model
    that plays ``role`` here (or is absent).

    Unknown names are a 404 that lists every served name (OpenAI's and Cohere's answer); a
    served model that cannot do this route's job is a 400 that says which model can.
    """
    served = served_models(settings, models)
    serving = next(entry for entry in served if role in entry.roles)
    if requested is None or requested in serving.names:
        return serving.name
    named = find_model(served, requested)
    if named is None:
        raise not_found(served, requested)
    raise InvalidInput(
        f"model '{requested}' serves {', '.join(named.roles)} here, not {role}; "
        f"use '{serving.name}' or leave model out",
        param="model",
    )
