"""A file that is read whole and compared by content to see whether it changed: how
API_KEYS_FILE and API_TOKEN_FILE are reloaded without a restart.

A Kubernetes Secret volume updates by writing a new timestamped directory and swapping the
``..data`` symlink to it in one rename, so a read (through the symlinks) sees the old content
or the new, whole. An inotify watch on the file itself would miss that swap; a check of the
content's sha256 cannot. A file that cannot be read counts as a content of its own (its
error), so the same error is reported once, not at every check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


class WatchedFile:
    def __init__(self, variable: str, path: Path) -> None:
        #: the setting that names the file (``API_KEYS_FILE``), for messages
        self.variable = variable
        self.path = path
        self._seen: bytes | None = None

    def read(self) -> bytes | OSError:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            return exc

    def is_new(self, data: bytes | OSError) -> bool:
        """Whether ``data`` (what ``read`` got) differs from what the last call saw; it is then
        remembered, so each content is new once."""
        if isinstance(data, OSError):
            fingerprint = f"unreadable: {data.strerror}".encode()
        else:
            fingerprint = hashlib.sha256(data).digest()
        if fingerprint == self._seen:
            return False
        self._seen = fingerprint
        return True
