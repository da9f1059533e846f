"""Model-breadth fixtures: tiny Qwen3 models on the real Qwen vocabulary, tiny
sentence-transformers encoders on MiniLM's vocabulary, and a loader for any backend.

The Qwen tokenizer conversion takes ~10 s; it is built once into the session's tiny-model
dir (``TINY_MODELS_DIR`` keeps it between runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from app.models.source import locate
from app.settings import Settings
from app.testing import tiny_models as tiny

CPU = torch.device("cpu")


@pytest.fixture(scope="session", autouse=True)
def _quiet_transformers() -> None:
    # transformers 4.57.6 warns about a Mistral regex for every local tokenizer it saved
    # itself; the warning does not apply to these models.
    logging.getLogger("transformers.tokenization_utils_base").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def qwen_models(tiny_dir: Path) -> dict[str, Path]:
    """``qwen-tokenizer``, ``qwen3-embedding`` (Qwen3Model) and ``qwen3-reranker``
    (Qwen3ForCausalLM) directories."""
    return tiny.build_qwen(tiny_dir)


@pytest.fixture(scope="session")
def st_models(tiny_dir: Path) -> Callable[..., Path]:
    """``st_models(pooling, normalize=False)``: a tiny sentence-transformers BERT encoder."""

    def build(pooling: str, *, normalize: bool = False) -> Path:
        suffix = "-norm" if normalize else ""
        return tiny.build_sentence_transformer(
            tiny_dir / f"st-{pooling}{suffix}", pooling=pooling, normalize=normalize
        )

    return build


@pytest.fixture(scope="session")
def load_backend() -> Callable[..., Any]:
    """``load_backend(BackendClass, path, dtype=float32, **setting_overrides)`` on CPU."""

    def load(
        backend_class: type,
        path: Path | str,
        *,
        dtype: torch.dtype = torch.float32,
        **overrides: object,
    ) -> Any:
        settings = Settings(device="cpu", **overrides)  # type: ignore[arg-type]
        return backend_class(
            locate(str(path)), name=str(path), device=CPU, dtype=dtype, settings=settings
        )

    return load
