"""``smart-embedder download``: fill the model cache before any server needs it.

Models are found and fetched by the same ``locate`` the server uses (a local directory, or
a hub snapshot in ``MODEL_CACHE_DIR``; ``HF_HUB_OFFLINE=1`` only checks what is there), and
which models to fetch comes from the same plan the server loads from (``planned_roles``), so
a cache filled here is exactly what ``serve`` will look for. Hugging Face's own progress bars
show the transfer.

Verification, after each fetch:

- ``config``: the registry picks the backend class from the model's ``config.json`` (an
  unsupported model fails here), transformers parses the config and loads the tokenizer, and
  every safetensors file's header is read (a truncated file fails here). Seconds, little
  memory: what an init container wants, since the server loads the weights right after.
- ``load`` (the default): the backend itself is built on CPU in float32, as the server would
  build it, then freed. It proves the weights load, at the cost of the model's size in memory
  and its load time: what a one-off Job that fills a shared volume wants.
- ``none``: fetch only.

A failure raises ``ModelLoadError`` with one line that names the model and the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from app.errors import ModelLoadError
from app.models.catalog import model_choice, planned_roles
from app.models.registry import Role, embedding_backend_for, rerank_backend_for
from app.models.source import ModelDir, locate
from app.models.verify import BackendClass, check_files, load_on_cpu
from app.settings import Settings

VerifyMode = Literal["config", "load", "none"]
VERIFY_MODES: tuple[str, ...] = get_args(VerifyMode)
ALL_ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Wanted:
    """One model to fetch. ``roles`` empty: a model named on the command line, which must
    be usable in at least one role."""

    ref: str
    revision: str = ""
    roles: tuple[Role, ...] = ()

    def describe(self) -> str:
        at = f"@{self.revision}" if self.revision else ""
        roles = f" ({', '.join(self.roles)})" if self.roles else ""
        return f"{self.ref}{at}{roles}"


@dataclass(frozen=True)
class Fetched:
    wanted: Wanted
    model_dir: ModelDir
    backends: tuple[BackendClass, ...]
    size_bytes: int
    fetch_seconds: float
    verify_seconds: float


def configured_models(settings: Settings) -> list[Wanted]:
    """The models ``serve`` would load with these settings, one entry per distinct ref."""
    roles_by_ref: dict[str, list[Role]] = {}
    for role, ref in planned_roles(model_choice(settings)):
        roles_by_ref.setdefault(ref, []).append(role)
    return [
        Wanted(ref=ref, revision=settings.model_revision, roles=tuple(roles))
        for ref, roles in roles_by_ref.items()
    ]


def named_models(specs: Iterable[str], default_revision: str = "") -> list[Wanted]:
    """``REF`` or ``REF@REVISION`` (a hub id, or a local directory) as given by an operator."""
    wanted = []
    for spec in specs:
        ref, revision = spec, default_revision
        if "@" in spec and not Path(spec).expanduser().is_dir():
            ref, _, revision = spec.rpartition("@")
            if not ref or not revision:
                raise ModelLoadError(f"model {spec}: expected REF or REF@REVISION")
        wanted.append(Wanted(ref=ref, revision=revision))
    return wanted


def backends_for(model_dir: ModelDir, roles: Sequence[Role]) -> tuple[BackendClass, ...]:
    """The backend class for each role (the server's registry decides); for a model named
    without roles, the classes of every role it can fill, and an error when it fills none."""

    def resolve(role: Role) -> BackendClass:
        if role == "rerank":
            return rerank_backend_for(model_dir)
        return embedding_backend_for(model_dir, role)

    if roles:
        return tuple(dict.fromkeys(resolve(role) for role in roles))
    found: dict[BackendClass, None] = {}
    for role in ALL_ROLES:
        try:
            found[resolve(role)] = None
        except ModelLoadError:
            continue
    if not found:
        described = f"model_type={model_dir.model_type or '?'}"
        if model_dir.architectures:
            described += f", architectures={','.join(model_dir.architectures)}"
        raise ModelLoadError(
            f"model {model_dir.ref} ({described}) is not supported for any role "
            "(dense, sparse, colbert, rerank)"
        )
    return tuple(found)


def fetch(wanted: Wanted, settings: Settings, verify: VerifyMode) -> Fetched:
    started = time.perf_counter()
    model_dir = locate(
        wanted.ref, revision=wanted.revision, cache_dir=settings.model_cache_dir, download=True
    )
    fetched_at = time.perf_counter()
    backends = backends_for(model_dir, wanted.roles)
    if verify == "config":
        check_files(model_dir)
    elif verify == "load":
        for backend in backends:
            load_on_cpu(model_dir, backend, settings)
    return Fetched(
        wanted=wanted,
        model_dir=model_dir,
        backends=backends,
        size_bytes=directory_size(model_dir.path),
        fetch_seconds=fetched_at - started,
        verify_seconds=time.perf_counter() - fetched_at,
    )


def run(
    settings: Settings,
    *,
    specs: Sequence[str] = (),
    verify: VerifyMode = "load",
    say: Callable[[str], None] = print,
) -> list[Fetched]:
    """Fetch and verify the named models (``specs``), or else the configured ones."""
    _quiet_libraries()
    wanted = named_models(specs, settings.model_revision) if specs else configured_models(settings)
    cache = settings.model_cache_dir or "the default Hugging Face cache"
    # Local directories (the offline preset's weights inside pip packages, a mounted volume)
    # are only checked: saying they go into the cache would send operators looking there.
    local = [item for item in wanted if Path(item.ref).expanduser().is_dir()]
    hub = len(wanted) - len(local)
    on_disk = f", {len(local)} already in local directories" if local else ""
    say(f"download: {hub} model(s) into {cache}{on_disk} (verify: {verify})")
    done = []
    for item in wanted:
        action = "local directory, nothing to fetch" if item in local else "fetching"
        say(f"{item.describe()}: {action}")
        fetched = fetch(item, settings, verify)
        kinds = ", ".join(b.kind for b in fetched.backends)
        verified = (
            "not verified"
            if verify == "none"
            else f"verified ({verify}) in {fetched.verify_seconds:.1f}s"
        )
        say(
            f"{item.ref}: {human_size(fetched.size_bytes)} in {fetched.model_dir.path} "
            f"({fetched.fetch_seconds:.1f}s); {kinds} backend {verified}"
        )
        done.append(fetched)
    say(f"done: {len(done)} model(s) ready")
    return done


def directory_size(path: Path) -> int:
    # Hub snapshots are symlinks into blobs/; stat follows them to the real sizes.
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _quiet_libraries() -> None:
    # Their warnings (unused weights, deprecations) would bury the one line that matters;
    # hub progress bars are not logging and stay on.
    import logging

    for noisy in ("transformers", "huggingface_hub", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
