"""Host memory on a real server: the RSS gauges of ``/metrics`` and the bench's soak
(``python -m app.bench --soak``) sampling the same processes."""

from __future__ import annotations

import httpx
import pytest

from app.bench.soak import run_soak
from tests.helpers import ServerProcess
from tests.ops.load import engine_pid
from tests.ops.metrics_text import samples

#: these tests share the session's default server (tests/ops/conftest.py)
pytestmark = pytest.mark.xdist_group("ops-default-server")

RSS = "smart_embedder_process_resident_memory_bytes"


def test_metrics_and_the_soak_report_the_rss_of_the_api_and_the_engine(
    default_server: ServerProcess,
) -> None:
    server = default_server
    engine = engine_pid(server.url)
    api = server.proc.pid

    rss = {
        (labels["process"], labels["pid"]): value
        for labels, value in samples(httpx.get(server.url + "/metrics").text)[RSS]
    }
    assert set(rss) == {("api", str(api)), ("engine", str(engine))}
    assert all(value > 10 * 2**20 for value in rss.values())  # a Python with torch: > 10 MB

    seen: list[int] = []
    result = run_soak(
        server.url,
        api,
        samples=3,
        interval_s=0.05,
        concurrency=2,
        on_sample=lambda sample: seen.append(len(sample.rss)),
    )
    assert seen == [2, 2, 2]  # both processes in every sample
    assert {(p.role, p.pid) for p in result.processes} == {("api", api), ("engine", engine)}
    for process in result.processes:
        assert process.allocator.startswith("glibc")
        assert process.start_mb > 10 and process.peak_mb >= process.end_mb > 10
    # each client sends one request at least; the tiny models include a reranker
    assert result.requests >= 2 and result.errors == 0
    assert result.units > 0
    assert len(result.lines()) == 4
