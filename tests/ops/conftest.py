"""Fixtures for the operations tests: real ``python -m app serve`` processes on the tiny models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess


@pytest.fixture(scope="session")
def server_env(tiny_models: dict[str, Path]) -> dict[str, str]:
    """The environment every test server starts from: tiny models on CPU, JSON logs at info,
    rate limiting off unless a test turns it on."""
    return {
        "BGE_M3_MODEL": str(tiny_models["bge-m3"]),
        "RERANKER_MODEL": str(tiny_models["bge-reranker"]),
        "DEVICE": "cpu",
        "LOG_LEVEL": "info",
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "API_TOKEN": "",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        # One API process, whatever the machine's cores (tests that want more say so).
        "API_WORKERS": "1",
    }


@pytest.fixture
def start_server(server_env: dict[str, str]) -> Iterator[Callable[..., ServerProcess]]:
    """``start_server(**ENV)``: a ready server; stopped (if still running) after the test."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        server = ServerProcess({**server_env, **env})
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def default_server(server_env: dict[str, str]) -> Iterator[ServerProcess]:
    """One server on ``server_env`` alone, for the tests that only send it requests and read
    its answers, metrics and log. The files that use it are one ``xdist_group``
    ("ops-default-server"), so it starts once a run."""
    server = ServerProcess(server_env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
