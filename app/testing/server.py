"""A real ``python -m app serve`` in a subprocess on a free loopback port, for tests and the
benchmark: the same code path a user starts, not an in-process shortcut."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: what ``serve`` says when its port was taken before it could bind it (``app.cli.port_in_use``,
#: or the bind itself)
_PORT_TAKEN = ("is already in use; choose another with --port", "[Errno 98]")


class ServerProcess:
    def __init__(self, env: Mapping[str, str], *, args: tuple[str, ...] = ()) -> None:
        self._env = env
        self._args = args
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            **self._env,
        }
        self.log_path = Path(tempfile.gettempdir()) / f"smart-embedder-{self.port}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", *self._args],
            env=full_env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def get_status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if any(said in self.log() for said in _PORT_TAKEN) and "PORT" not in self._env:
                    # another process (a parallel test worker's server) took the free port
                    # between our look and the server's bind: try another
                    self._log.close()
                    self._start()
                    continue
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.log()}")
            if self.get_status("/readyz") == 200:
                return
            time.sleep(0.2)
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
