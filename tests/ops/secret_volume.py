"""A directory laid out as the kubelet lays out a Secret (or ConfigMap) volume, and updated as
it updates one: each file is a symlink ``name -> ..data/name``; ``..data`` is a symlink to a
timestamped directory holding the real files. An update writes a new timestamped directory,
points a temporary symlink at it and renames that over ``..data`` (one atomic step), then
deletes the old directory."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

_DATA = "..data"


class SecretVolume:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._versions = itertools.count(1)

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, files: dict[str, str]) -> None:
        data = self.root / _DATA
        old = data.resolve() if data.is_symlink() else None
        stamp = self.root / f"..2026_12_02_06_00_{next(self._versions):02d}.{os.getpid()}"
        stamp.mkdir()
        for name, text in files.items():
            (stamp / name).write_text(text)
        staging = self.root / "..data_tmp"
        staging.symlink_to(stamp.name)
        os.replace(staging, data)
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(f"{_DATA}/{name}")
        if old is not None:
            shutil.rmtree(old)
