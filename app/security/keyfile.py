"""The API keys file (``API_KEYS_FILE``, YAML): its format, and its parse into ``ApiKey``s.

Every message here names the entry by its place and ``name`` and never quotes the file: a
line of it may hold a key. PyYAML's own messages can quote the text around a mistake, so a
syntax error is reported by its line, column and problem only.
"""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

import msgspec
import yaml
from msgspec import Meta

from app.security.apikeys import RESERVED_NAMES, ApiKey, key_digest, route_glob

KEY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"

#: the file's format, shown in docs/configuration.md and the chart README
EXAMPLE = """\
keys:
  - name: indexer              # shown in metrics, /stats and logs; the key never is
    sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
    requests_per_minute: 6000  # token-bucket refill; 0: no rate limit
    burst: 300                 # requests at once
    max_concurrent: 16         # requests in flight; 0: no cap
    routes: ["/embeddings*", "/v1/embeddings"]
    priority: batch            # served after interactive work, and cannot ask for more
  - name: notebook
    key: nb-7f3a9c2e51d04b8e   # the key itself also works; only its sha256 is kept
    requests_per_minute: 60
    burst: 5
"""


class KeyEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(pattern=KEY_NAME_PATTERN)]
    key: Annotated[str, Meta(min_length=1)] | None = None
    sha256: Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    requests_per_minute: Annotated[int, Meta(ge=0)] | None = None
    burst: Annotated[int, Meta(ge=1)] | None = None
    max_concurrent: Annotated[int, Meta(ge=0)] = 0
    #: leave it out to allow every route; an empty list would allow none, so it is refused
    routes: Annotated[list[Annotated[str, Meta(pattern=r"^[/*]")]], Meta(min_length=1)] | None = (
        None
    )
    #: the class of its requests; ``batch`` pins them there (they cannot ask for interactive)
    priority: Literal["interactive", "batch"] | None = None


class KeysFile(msgspec.Struct, forbid_unknown_fields=True):
    keys: list[KeyEntry] = []


class KeyFileError(ValueError):
    """The file cannot be used; the message says where and why, and quotes no key."""


class DefaultLimits(NamedTuple):
    """The limits of an entry that sets none: RATE_LIMIT_REQUESTS_PER_MINUTE and _BURST_SIZE."""

    requests_per_minute: int
    burst: int


def parse_keys(data: bytes, defaults: DefaultLimits) -> list[ApiKey]:
    """The keys of a file's content, or ``KeyFileError``."""
    try:
        document = yaml.safe_load(data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise KeyFileError(f"not valid YAML: {where}{exc.problem}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise KeyFileError(f"not valid YAML ({type(exc).__name__})") from None
    try:
        parsed = msgspec.convert(document or {}, KeysFile)
    except msgspec.ValidationError as exc:
        # msgspec names the type and the place ("at `$.keys[1].burst`"), never the value
        raise KeyFileError(str(exc)) from None
    keys: list[ApiKey] = []
    seen: dict[bytes, str] = {}
    for i, entry in enumerate(parsed.keys):
        where = f"keys[{i}] ({entry.name!r})"
        if entry.name in RESERVED_NAMES:
            raise KeyFileError(f"{where}: the name {entry.name!r} is reserved")
        if any(k.name == entry.name for k in keys):
            raise KeyFileError(f"{where}: another entry has the same name")
        if (entry.key is None) == (entry.sha256 is None):
            raise KeyFileError(f"{where}: give either key or sha256 (exactly one)")
        digest = (
            key_digest(entry.key) if entry.key is not None else bytes.fromhex(entry.sha256 or "")
        )
        if digest in seen:
            raise KeyFileError(f"{where}: the same key as {seen[digest]!r}")
        seen[digest] = entry.name
        keys.append(
            ApiKey(
                name=entry.name,
                digest=digest,
                requests_per_minute=defaults.requests_per_minute
                if entry.requests_per_minute is None
                else entry.requests_per_minute,
                burst=defaults.burst if entry.burst is None else entry.burst,
                max_concurrent=entry.max_concurrent,
                routes=tuple(route_glob(r) for r in entry.routes or ()),
                priority=entry.priority,
            )
        )
    return keys
