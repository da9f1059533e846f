"""API keys as the server holds them: a name, the sha256 of the key (never the key), the
key's limits and the routes it may call; and the ring of keys in force.

A presented key is hashed once and compared with every key's digest by
``hmac.compare_digest``, with no early exit: how long a lookup takes says nothing about which
key (if any) is close to the one presented.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

#: the ``scope["state"]`` key where the gate writes the name of the request's key
KEY_STATE_KEY = "smart_embedder.api_key"
#: the name every request without a valid key is counted under
ANONYMOUS = "anonymous"
#: the name of the key that API_TOKEN sets
API_TOKEN_NAME = "api_token"
RESERVED_NAMES = frozenset({ANONYMOUS, API_TOKEN_NAME})
#: the ``scope["state"]`` key where the gate writes the ``priority`` of the request's key
KEY_PRIORITY_STATE_KEY = "smart_embedder.api_key_priority"
#: a key's priority class (the scheduler's classes: ``app.scheduler.priorities``)
KeyPriority = Literal["interactive", "batch"]


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class ApiKey:
    name: str
    digest: bytes = field(repr=False)
    #: token-bucket refill per minute; 0: no rate limit
    requests_per_minute: int
    burst: int
    #: requests in flight at once; 0: no cap
    max_concurrent: int = 0
    #: path globs this key may call; empty: every route
    routes: tuple[str, ...] = ()
    #: API_TOKEN's key: limited per client address by RATE_LIMIT_*, as before named keys
    per_client: bool = False
    #: the class its requests are served in by default, and the highest they may ask for:
    #: a ``batch`` key is pinned to the batch class; None: interactive
    priority: KeyPriority | None = None

    def allows(self, path: str) -> bool:
        if not self.routes:
            return True
        trimmed = path.rstrip("/") or "/"
        return any(fnmatchcase(trimmed, route) for route in self.routes)


def route_glob(route: str) -> str:
    """A ``routes`` entry as it is matched: without a trailing slash, as paths are."""
    return route.rstrip("/") or "/"


class KeyRing:
    """The keys in force. Immutable: a reload builds a new ring and swaps it in whole."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self.keys = tuple(keys)
        self.by_name: Mapping[str, ApiKey] = {key.name: key for key in self.keys}

    def match(self, presented: str) -> ApiKey | None:
        digest = key_digest(presented)
        found = None
        for key in self.keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found

    @property
    def names(self) -> list[str]:
        return [key.name for key in self.keys]


def key_of(scope: Mapping[str, Any]) -> str:
    """The name of the key a request was let in with; ``ANONYMOUS`` if none."""
    return str(scope.get("state", {}).get(KEY_STATE_KEY, ANONYMOUS))
