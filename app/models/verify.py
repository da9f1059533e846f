"""The download command's checks of a model on disk: its config, tokenizer and weight headers
read without loading any weights, and its backend built once on CPU, as the server builds it."""

from __future__ import annotations

import gc

from app.errors import ModelLoadError
from app.models.base import EmbeddingBackend, RerankBackend
from app.models.source import ModelDir
from app.settings import Settings

BackendClass = type[EmbeddingBackend] | type[RerankBackend]


def check_files(model_dir: ModelDir) -> None:
    """Config, tokenizer and weight headers, without loading any weights."""
    from safetensors import safe_open
    from transformers import AutoConfig, AutoTokenizer

    ref = model_dir.ref
    try:
        AutoConfig.from_pretrained(model_dir.path)
    except Exception as exc:
        raise ModelLoadError(
            f"model {ref}: config.json does not load: {_first_line(exc)}"
        ) from None
    try:
        AutoTokenizer.from_pretrained(model_dir.path)
    except Exception as exc:
        raise ModelLoadError(f"model {ref}: tokenizer does not load: {_first_line(exc)}") from None
    safetensors = sorted(model_dir.path.glob("*.safetensors"))
    if not safetensors and not any(model_dir.path.glob("*.bin")):
        raise ModelLoadError(
            f"model {ref}: no weights (*.safetensors or *.bin) in {model_dir.path}"
        )
    for weights in safetensors:
        try:
            with safe_open(str(weights), framework="pt") as opened:
                opened.keys()
        except Exception as exc:
            raise ModelLoadError(
                f"model {ref}: {weights.name} is damaged or incomplete: {_first_line(exc)}"
            ) from None


def load_on_cpu(model_dir: ModelDir, backend: BackendClass, settings: Settings) -> None:
    """Build the backend as the server does, on CPU in float32, then free it."""
    import torch

    try:
        built = backend(  # type: ignore[call-arg]
            model_dir,
            name=model_dir.ref,
            device=torch.device("cpu"),
            dtype=torch.float32,
            settings=settings,
        )
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"model {model_dir.ref}: the {backend.kind} backend does not load: {_first_line(exc)}"
        ) from None
    del built
    gc.collect()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
