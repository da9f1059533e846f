"""Loading a model set with its weights: torch and the backends' modules, in whichever
process runs the passes (the engine process; the API process only with ENGINE_PROCESS=false).
``app.models.catalog`` plans the set without torch; this builds it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from app.errors import ModelLoadError
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.catalog import ModelSet, model_choice, planned_roles, served_names
from app.models.naming import ServedNames
from app.models.registry import Role, embedding_backend_for, rerank_backend_for
from app.models.source import ModelDir, locate
from app.settings import Settings

log = logging.getLogger("smart_embedder.models")


def _served_name(names: ServedNames, ref: str) -> str:
    model = names.for_ref(ref)
    return model.name if model is not None else ref


def _backend_class(model_dir: ModelDir, role: Role) -> type[EmbeddingBackend] | type[RerankBackend]:
    if role == "rerank":
        return rerank_backend_for(model_dir)
    return embedding_backend_for(model_dir, role)


def _route_transformers_logs() -> None:
    """transformers sets its loggers up when first imported, which is here (no module above
    imports it): its own stderr handler (plain text, not JSON lines) at its own level. Send its
    records to the root's JSON handler instead, at errors only, as app.telemetry.logging means
    for it."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_default_handler()
    transformers_logging.enable_propagation()
    transformers_logging.set_verbosity_error()


def load_models(
    settings: Settings,
    *,
    on_progress: Callable[[str], None] | None = None,
) -> ModelSet:
    from app.models.pretrained_tokenizer import shared_while_loading

    with shared_while_loading():
        return _load_models(settings, on_progress)


def _load_models(settings: Settings, on_progress: Callable[[str], None] | None) -> ModelSet:
    import torch

    _route_transformers_logs()

    from app.cpu import usable_cores
    from app.models.runtime import configure_cpu_threads, resolve_device, resolve_dtype

    device = resolve_device(settings.device)
    if device.type == "cpu":
        configure_cpu_threads(usable_cores(settings.cpu_threads))
    torch.set_grad_enabled(False)
    choice = model_choice(settings)
    names = served_names(settings)
    models = ModelSet()
    loaded: dict[str, object] = {}
    plan = planned_roles(choice)
    for role, ref in plan:
        if ref not in loaded:
            started = time.perf_counter()
            # Say where the files come from before a download that may take minutes.
            log.info(
                "model %s for %s: %s",
                ref,
                ", ".join(r for r, other in plan if other == ref),
                "local directory"
                if Path(ref).expanduser().is_dir()
                else f"from the hub, cache {settings.model_cache_dir or 'default'} "
                "(downloads what is missing)",
            )
            model_dir = locate(
                ref, revision=settings.model_revision, cache_dir=settings.model_cache_dir
            )
            backend_class = _backend_class(model_dir, role)
            dtype = resolve_dtype(settings.dtype, device, backend_class.kind)
            log.info(
                "model %s: files ready in %.1fs at %s; loading the %s backend on %s (%s)",
                ref,
                time.perf_counter() - started,
                model_dir.path,
                backend_class.kind,
                device,
                str(dtype).removeprefix("torch."),
            )
            instance = backend_class(  # type: ignore[call-arg]
                model_dir,
                # what the native API and /health report; /v1 routes read every name
                name=_served_name(names, ref),
                device=device,
                dtype=dtype,
                settings=settings,
            )
            instance.info.dtype = str(dtype).removeprefix("torch.")
            loaded[ref] = instance
            elapsed = time.perf_counter() - started
            log.info("model %s: loaded in %.1fs", ref, elapsed)
            if on_progress:
                on_progress(f"{ref} loaded in {elapsed:.1f}s")
        backend = loaded[ref]
        if role == "rerank":
            if not isinstance(backend, RerankBackend):
                raise ModelLoadError(f"model {ref} cannot rerank")
            models.reranker = backend
        else:
            if not isinstance(backend, EmbeddingBackend) or Head(role) not in backend.heads:
                raise ModelLoadError(f"model {ref} cannot give {role} vectors")
            models.by_head[Head(role)] = backend
    return models
