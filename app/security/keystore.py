"""The keys in force (API_TOKEN's and API_KEYS_FILE's) and the file's hot reload.

The file is polled every API_KEYS_RELOAD_SECONDS: read whole (through any symlinks) and
compared by its sha256 with the content seen last. A Kubernetes Secret volume updates by
writing a new timestamped directory and swapping the ``..data`` symlink to it in one rename,
so a read sees the old content or the new, whole; an inotify watch on the file itself would
miss that swap, a content check cannot. Content that does not parse (or a file gone) is
reported once, counted, and the keys in force stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import Counter
from pathlib import Path

from app.security.apikeys import API_TOKEN_NAME, ApiKey, KeyRing, key_digest
from app.security.keyfile import DefaultLimits, KeyFileError, parse_keys
from app.settings import Settings, SettingsError

log = logging.getLogger("smart_embedder.keys")
NO_LIMITS = DefaultLimits(0, 1)


class KeyStore:
    def __init__(
        self,
        *,
        static: tuple[ApiKey, ...] = (),
        path: Path | None = None,
        defaults: DefaultLimits = NO_LIMITS,
        interval: float = 2.0,
    ) -> None:
        self.static = static
        self.path = path
        self.defaults = defaults
        self.interval = interval
        self.ring = KeyRing(static)
        #: "success" / "failure" -> reloads of the file after start-up
        self.reloads: Counter[str] = Counter()
        self.last_error: str | None = None
        self._seen: bytes | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyStore | None:
        """The store for these settings, its file read; ``None`` when auth is off. A file that
        cannot be read or parsed stops start-up (``SettingsError``): there are no keys yet
        to keep."""
        static: tuple[ApiKey, ...] = ()
        defaults = DefaultLimits(
            settings.rate_limit_requests_per_minute, settings.rate_limit_burst_size
        )
        if settings.api_token:
            static = (
                ApiKey(
                    name=API_TOKEN_NAME,
                    digest=key_digest(settings.api_token),
                    requests_per_minute=defaults.requests_per_minute,
                    burst=defaults.burst,
                    per_client=True,
                ),
            )
        if not settings.api_keys_file:
            return cls(static=static) if static else None
        path = Path(settings.api_keys_file)
        store = cls(
            static=static, path=path, defaults=defaults, interval=settings.api_keys_reload_seconds
        )
        try:
            store._apply(path.read_bytes())
        except OSError as exc:
            raise SettingsError(f"API_KEYS_FILE: cannot read {path}: {exc.strerror}") from None
        except KeyFileError as exc:
            raise SettingsError(f"API_KEYS_FILE: {path}: {exc}") from None
        log.info(
            "API keys: %d from %s (%s)%s",
            len(store.ring.keys) - len(static),
            path,
            ", ".join(k.name for k in store.ring.keys if not k.per_client) or "none",
            "; API_TOKEN too" if static else "",
        )
        return store

    def _apply(self, data: bytes) -> None:
        self._seen = hashlib.sha256(data).digest()
        keys = parse_keys(data, self.defaults)
        for key in keys:
            if any(key.digest == s.digest for s in self.static):
                raise KeyFileError(f"{key.name!r}: the same key as API_TOKEN")
        self.ring = KeyRing([*self.static, *keys])

    def check(self) -> bool:
        """Read the file once; load it if its content changed. True when the keys changed."""
        return self.consider(self.read())

    def read(self) -> bytes | OSError:
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            return exc

    def consider(self, data: bytes | OSError) -> bool:
        """Load ``data`` (what ``read`` got) if it changed. True when the keys changed."""
        if isinstance(data, OSError):
            fingerprint = f"unreadable: {data.strerror}".encode()
            if fingerprint == self._seen:
                return False
            self._seen = fingerprint
            self._failed(f"cannot read it: {data.strerror}")
            return False
        if hashlib.sha256(data).digest() == self._seen:
            return False
        try:
            self._apply(data)
        except KeyFileError as exc:
            self._failed(str(exc))
            return False
        self.reloads["success"] += 1
        self.last_error = None
        log.info(
            "API_KEYS_FILE %s reloaded: %d keys (%s)",
            self.path,
            len(self.ring.keys),
            ", ".join(self.ring.names) or "none",
        )
        return True

    def _failed(self, why: str) -> None:
        self.reloads["failure"] += 1
        self.last_error = why
        log.error(
            "API_KEYS_FILE %s not reloaded, the %d keys in force stay: %s",
            self.path,
            len(self.ring.keys),
            why,
        )

    # --- the polling task, started and stopped with the app ---
    def start(self) -> None:
        if self.path is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="api-keys")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                # the read off the loop (a slow mount must not stall requests); the swap on it
                self.consider(await asyncio.to_thread(self.read))
            except Exception:
                log.exception("API_KEYS_FILE %s: the reload check failed", self.path)
