"""The bench's floor app (``app/bench/floor_app.py``, issue 22): for the same body it answers
what the server answers, in shape, so that ``python -m app.bench --floor`` compares like with
like."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.bench.floor import floor_server
from tests.helpers import ServerProcess

#: these tests share the session's default server (tests/ops/conftest.py)
pytestmark = pytest.mark.xdist_group("ops-default-server")

#: the tiny bge-m3's hidden size: its dense width
TINY_HIDDEN = 32
BODY = {
    "sentences": ["Dense retrieval on a query", "A second, somewhat longer passage text"],
    "return_dense": True,
    "return_sparse": False,
    "return_colbert": False,
}


def shape(answer: dict[str, Any]) -> dict[str, Any]:
    """Everything but the values that differ by design: the vectors' numbers and the time."""
    return {
        **{key: value for key, value in answer.items() if key != "processing_time_ms"},
        "data": [
            {
                **item,
                "embeddings": {head: len(vector) for head, vector in item["embeddings"].items()},
            }
            for item in answer["data"]
        ],
    }


def test_floor_answers_the_servers_shape(
    default_server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    server = default_server
    ours = httpx.post(f"{server.url}/embeddings/", json=BODY, timeout=60)
    name = httpx.get(f"{server.url}/health", timeout=10).json()["dense_model"]
    with floor_server(tiny_models["bge-m3"], name) as (url, _):
        floor = httpx.post(f"{url}/embeddings/", json=BODY, timeout=60)
    assert ours.status_code == floor.status_code == 200
    assert floor.headers["content-type"] == ours.headers["content-type"]
    assert shape(floor.json()) == shape(ours.json())
    assert [item["embeddings"] for item in shape(floor.json())["data"]] == [
        {"dense": TINY_HIDDEN}
    ] * 2
    assert isinstance(floor.json()["processing_time_ms"], float)
