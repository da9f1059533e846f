"""The names each served model answers to in a request's ``model`` (SPEC §1.2, served names).

A model answers to the names the operator chose for its roles (``*_SERVED_MODEL_NAME``, as
vLLM's ``--served-model-name``), then to its canonical name (the hub id; a preset's packaged
directory goes by the hub id it was copied from), to the ref that was configured (hub id or
directory, exactly as written), and to the short form of a hub id (``bge-m3`` for
``BAAI/bge-m3``) where no other model claims it. The first name is the one responses report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import ModelLoadError
from app.models.presets import ModelChoice
from app.models.source import looks_like_path

if TYPE_CHECKING:
    from app.models.registry import Role


@dataclass(frozen=True)
class ServedModel:
    ref: str  #: the configured hub id or directory
    roles: tuple[Role, ...]
    names: tuple[str, ...]  #: every name it answers to; the first is the one it reports

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class ServedNames:
    models: tuple[ServedModel, ...]

    def for_role(self, role: Role) -> ServedModel | None:
        return next((m for m in self.models if role in m.roles), None)

    def for_ref(self, ref: str) -> ServedModel | None:
        return next((m for m in self.models if m.ref == ref), None)


def parse_names(value: str) -> tuple[str, ...]:
    """``"a, b,,a"`` → ``("a", "b")``: the setting's comma-separated names, blanks dropped."""
    names = (part.strip() for part in value.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def served_names(choice: ModelChoice, plan: Sequence[tuple[Role, str]]) -> ServedNames:
    """Every planned model (one per distinct ref, in plan order) with its names.

    Two models given the same name would make a request's ``model`` ambiguous: that fails
    start-up with a line naming both. A short form that two models share is left out.
    """
    refs = list(dict.fromkeys(ref for _, ref in plan))
    roles = {ref: tuple(role for role, other in plan if other == ref) for ref in refs}
    firm = {ref: _firm_names(choice, ref, roles[ref]) for ref in refs}
    owner: dict[str, str] = {}
    for ref in refs:
        for name in firm[ref]:
            other = owner.setdefault(name, ref)
            if other != ref:
                raise ModelLoadError(
                    f"served model name '{name}' is given to two models, {other} and {ref}; "
                    "give each model names of its own (*_SERVED_MODEL_NAME)"
                )
    shorts = {ref: _short_name(choice.canonical_name(ref)) for ref in refs}
    models = []
    for ref in refs:
        names = list(firm[ref])
        short = shorts[ref]
        claimed = owner.get(short or "", ref) != ref
        shared = sum(1 for other in refs if shorts[other] == short) > 1
        if short and not claimed and not shared and short not in names:
            names.append(short)
        models.append(ServedModel(ref=ref, roles=roles[ref], names=tuple(names)))
    return ServedNames(models=tuple(models))


def _firm_names(choice: ModelChoice, ref: str, roles: Iterable[Role]) -> tuple[str, ...]:
    """The operator's names for this model's roles, then its canonical name and the ref.

    The dense role's names come first: most clients that send ``model`` want vectors from
    ``/v1/embeddings``, and its responses should carry the name they chose. bge-m3's own
    names follow the role names wherever it plays those roles.
    """
    chosen: list[str] = []
    played = set(roles)
    if "dense" in played:
        chosen += choice.dense_served
    if "sparse" in played:
        chosen += choice.sparse_served
    if choice.bge_m3 and ref == choice.bge_m3:
        chosen += choice.bge_m3_served
    if "rerank" in played:
        chosen += choice.reranker_served
    return tuple(dict.fromkeys([*chosen, choice.canonical_name(ref), ref]))


def _short_name(canonical: str) -> str | None:
    """``org/name`` → ``name`` for a hub id; a directory has no short form (its last part,
    ``model`` or ``snapshot``, would say nothing)."""
    if looks_like_path(canonical) or canonical.count("/") != 1:
        return None
    return canonical.split("/", 1)[1] or None
