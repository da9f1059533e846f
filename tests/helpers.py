"""Test helpers: a real server process (shared with the benchmark) and readiness waits."""

from __future__ import annotations

import time

import httpx

from app.testing.server import REPO, ServerProcess, free_port

__all__ = ["REPO", "ServerProcess", "free_port", "wait_ready"]


def wait_ready(client: httpx.Client, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise TimeoutError(f"app not ready after {timeout}s: {client.get('/readyz').text}")
