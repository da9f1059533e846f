"""The keys in force and their hot reload: API_TOKEN's key (from the variable, or read from
API_TOKEN_FILE) and API_KEYS_FILE's named keys.

Each file is polled every API_KEYS_RELOAD_SECONDS and loaded when its content changed
(``WatchedFile``: a Secret volume's ``..data`` symlink swap included). Content that cannot be
used (a file gone, a keys file that does not parse, an empty token file) is reported once,
counted, and the keys in force stay; at start-up it stops the server instead, as there are no
keys yet to keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from app.security.apikeys import API_TOKEN_NAME, ApiKey, KeyRing, key_digest
from app.security.keyfile import DefaultLimits, KeyFileError, parse_keys
from app.security.watched_file import WatchedFile
from app.settings import Settings, SettingsError

log = logging.getLogger("smart_embedder.keys")
NO_LIMITS = DefaultLimits(0, 1)
TOKEN_FILE = "API_TOKEN_FILE"
KEYS_FILE = "API_KEYS_FILE"


def parse_token(data: bytes) -> str:
    """The token a token file holds: its text without the surrounding whitespace (``kubectl
    create secret --from-file`` keeps an editor's final newline). The message never quotes
    the file."""
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyFileError("not UTF-8 text") from None
    if not token:
        raise KeyFileError("empty: it must hold the token")
    if any(c.isspace() for c in token):
        raise KeyFileError("more than one word: it must hold the token alone")
    return token


class KeyStore:
    def __init__(
        self,
        *,
        token: str = "",
        token_file: Path | None = None,
        keys_file: Path | None = None,
        defaults: DefaultLimits = NO_LIMITS,
        interval: float = 2.0,
    ) -> None:
        self.defaults = defaults
        self.interval = interval
        self.ring = KeyRing()
        #: "success" / "failure" -> reloads of either file after start-up
        self.reloads: Counter[str] = Counter()
        self.last_error: str | None = None
        self._token: ApiKey | None = self._token_key(token) if token else None
        self._named: tuple[ApiKey, ...] = ()
        self._files: list[tuple[WatchedFile, Callable[[bytes], None]]] = []
        if token_file is not None:
            self._files.append((WatchedFile(TOKEN_FILE, token_file), self._load_token))
        if keys_file is not None:
            self._files.append((WatchedFile(KEYS_FILE, keys_file), self._load_keys))
        self._swap(self._token, self._named)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyStore | None:
        """The store for these settings, its files read; ``None`` when auth is off. A file that
        cannot be read or used stops start-up (``SettingsError``)."""
        if settings.api_token and settings.api_token_file:
            raise SettingsError(f"{TOKEN_FILE}: set API_TOKEN or {TOKEN_FILE}, not both")
        if not (settings.api_token or settings.api_token_file or settings.api_keys_file):
            return None
        store = cls(
            token=settings.api_token,
            token_file=Path(settings.api_token_file) if settings.api_token_file else None,
            keys_file=Path(settings.api_keys_file) if settings.api_keys_file else None,
            defaults=DefaultLimits(
                settings.rate_limit_requests_per_minute, settings.rate_limit_burst_size
            ),
            interval=settings.api_keys_reload_seconds,
        )
        for file, load in store._files:
            data = file.read()
            file.is_new(data)
            if isinstance(data, OSError):
                raise SettingsError(f"{file.variable}: cannot read {file.path}: {data.strerror}")
            try:
                load(data)
            except KeyFileError as exc:
                raise SettingsError(f"{file.variable}: {file.path}: {exc}") from None
        said: list[str] = []
        if store._token is not None:
            said.append(
                f"API_TOKEN from {settings.api_token_file}"
                if settings.api_token_file
                else "API_TOKEN"
            )
        if settings.api_keys_file:
            names = ", ".join(k.name for k in store._named) or "none"
            said.append(f"{len(store._named)} named from {settings.api_keys_file} ({names})")
        log.info("API keys: %s", "; ".join(said))
        return store

    def _token_key(self, token: str) -> ApiKey:
        return ApiKey(
            name=API_TOKEN_NAME,
            digest=key_digest(token),
            requests_per_minute=self.defaults.requests_per_minute,
            burst=self.defaults.burst,
            per_client=True,
        )

    def _load_token(self, data: bytes) -> None:
        self._swap(self._token_key(parse_token(data)), self._named)

    def _load_keys(self, data: bytes) -> None:
        self._swap(self._token, tuple(parse_keys(data, self.defaults)))

    def _swap(self, token: ApiKey | None, named: tuple[ApiKey, ...]) -> None:
        for key in named:
            if token is not None and key.digest == token.digest:
                raise KeyFileError(f"the named key {key.name!r} is the same key as API_TOKEN")
        self._token, self._named = token, named
        self.ring = KeyRing([*([token] if token else []), *named])

    def check(self) -> bool:
        """Read each file once; load those whose content changed. True when the keys changed."""
        changed = False
        for file, load in self._files:
            changed |= self._consider(file, load, file.read())
        return changed

    def _consider(
        self, file: WatchedFile, load: Callable[[bytes], None], data: bytes | OSError
    ) -> bool:
        if not file.is_new(data):
            return False
        if isinstance(data, OSError):
            self._failed(file, f"cannot read it: {data.strerror}")
            return False
        try:
            load(data)
        except KeyFileError as exc:
            self._failed(file, str(exc))
            return False
        self.reloads["success"] += 1
        self.last_error = None
        log.info(
            "%s %s reloaded: %d keys (%s)",
            file.variable,
            file.path,
            len(self.ring.keys),
            ", ".join(self.ring.names) or "none",
        )
        return True

    def _failed(self, file: WatchedFile, why: str) -> None:
        self.reloads["failure"] += 1
        self.last_error = f"{file.variable}: {why}"
        log.error(
            "%s %s not reloaded, the %d keys in force stay: %s",
            file.variable,
            file.path,
            len(self.ring.keys),
            why,
        )

    # --- the polling task, started and stopped with the app ---
    def start(self) -> None:
        if self._files and self._task is None:
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
            for file, load in self._files:
                try:
                    # the read off the loop (a slow mount must not stall requests); the swap on it
                    self._consider(file, load, await asyncio.to_thread(file.read))
                except Exception:
                    log.exception("%s %s: the reload check failed", file.variable, file.path)
