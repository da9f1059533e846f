"""Finding a model's files: a local directory, or a snapshot from the Hugging Face hub."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from app.errors import ModelLoadError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# Weights in formats we never load; skipping them saves gigabytes on first start.
_IGNORED = ["onnx/*", "*.onnx", "openvino/*", "*.msgpack", "*.h5", "flax_model*", "tf_model*"]


@dataclass(frozen=True)
class ModelDir:
    """A model's files on disk and what its config says."""

    path: Path
    ref: str
    files: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def config(self) -> dict[str, Any]:
        config_file = self.path / "config.json"
        if not config_file.is_file():
            raise ModelLoadError(f"model {self.ref}: no config.json in {self.path}")
        try:
            loaded: dict[str, Any] = json.loads(config_file.read_text())
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"model {self.ref}: unreadable config.json ({exc})") from None
        return loaded

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def architectures(self) -> list[str]:
        return [str(a) for a in self.config.get("architectures") or []]

    def has(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def read_json(self, relative: str) -> Any:
        return json.loads((self.path / relative).read_text())


def looks_like_path(ref: str) -> bool:
    return ref.startswith(("/", ".", "~")) or os.sep in ref.strip("/").split("/", 1)[-1]


def locate(ref: str, *, revision: str = "", cache_dir: str = "", download: bool = True) -> ModelDir:
    """Return the local directory of ``ref`` (a path or a hub id), downloading if allowed.

    With ``download=False`` only local directories and already-cached hub snapshots are found;
    a hub id that would need a download returns ``None``-free: it raises ``ModelLoadError``.
    """
    local = Path(ref).expanduser()
    if local.is_dir():
        return ModelDir(path=local.resolve(), ref=ref)
    if looks_like_path(ref) or not _HUB_ID.match(ref):
        raise ModelLoadError(f"model {ref}: no such directory, and not a Hugging Face hub id")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        try:
            path = snapshot_download(
                repo_id=ref,
                revision=revision or None,
                cache_dir=cache_dir or None,
                ignore_patterns=_IGNORED,
                local_files_only=not download,
            )
        except LocalEntryNotFoundError:
            offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
            why = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached"
            raise ModelLoadError(
                f"model {ref}: not in the cache ({cache_dir or 'default HF cache'}) and {why}; "
                f"{_NO_NETWORK_HINT}"
            ) from None
        except HfHubHTTPError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelLoadError(f"model {ref}: hub download failed: {first}") from None
    except ModelLoadError:
        raise
    except Exception as exc:  # network stack errors vary; the operator needs one line
        raise ModelLoadError(f"model {ref}: {type(exc).__name__}: {exc}") from None
    return ModelDir(path=Path(path), ref=ref)


#: the ways forward without a hub, in the same line as the failure (operators read the last)
_NO_NETWORK_HINT = (
    "without network, start with --preset offline (weights from pip packages), fetch the "
    "models first with `smart-embedder download`, or point the model settings at local "
    "directories with HF_HUB_OFFLINE=1"
)


def is_cached_or_local(ref: str, *, revision: str = "", cache_dir: str = "") -> bool:
    try:
        locate(ref, revision=revision, cache_dir=cache_dir, download=False)
    except ModelLoadError:
        return False
    return True
