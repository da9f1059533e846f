"""A real server process for the client-library tests: the official clients need a socket.

One server (tiny bge-m3 + tiny bge reranker) is started on first use and shared by every
test that asks for ``server``; it stops at the end of the session. It requires the bearer
token ``API_TOKEN`` (below), so every client test also shows that the clients' own
``api_key`` handling passes our auth unchanged; ``server_http`` is an httpx client that
sends it.

Every file that uses ``server``, ``server_http`` or ``offline_server`` is in the
``xdist_group`` "api-servers", so these servers start on one worker, once a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ServerProcess

API_TOKEN = "client-tests-token"


@pytest.fixture(scope="session")
def server(tiny_models: dict[str, Path]) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "BGE_M3_MODEL": str(tiny_models["bge-m3"]),
            "RERANKER_MODEL": str(tiny_models["bge-reranker"]),
            "DEVICE": "cpu",
            # the client tests send bursts; rate limiting has its own tests
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
            "API_TOKEN": API_TOKEN,
        }
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def server_http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=60,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def offline_server() -> Iterator[ServerProcess]:
    """``serve --preset offline`` as a new user starts it: MiniLM dense and SPLADE sparse from
    their PyPI packages, no reranker, no token."""
    process = ServerProcess({"RATE_LIMIT_REQUESTS_PER_MINUTE": "0"}, args=("--preset", "offline"))
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
