"""The engine in its own process (app/engine/process.py), on a real server: the models run in
a child process, and when that process dies the server says so at once and goes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable

import httpx
import pytest

from tests.helpers import ServerProcess
from tests.ops.load import engine_paused, maps_torch, stats_when, wait_until

#: these tests share the session's default server (tests/ops/conftest.py)
pytestmark = pytest.mark.xdist_group("ops-default-server")

ENGINE_STARTED = re.compile(r"engine process (\d+) started")


def test_the_models_run_in_a_child_process(default_server: ServerProcess) -> None:
    server = default_server
    batch = httpx.get(server.url + "/health").json()["batch"]
    assert batch["engine"] == "process"
    engine = int(batch["engine_pid"])
    assert engine != server.proc.pid
    status = open(f"/proc/{engine}/status").read()  # noqa: SIM115
    assert f"PPid:\t{server.proc.pid}\n" in status
    r = httpx.post(server.url + "/embeddings/", json={"sentences": ["a", "b c"]})
    assert r.status_code == 200 and len(r.json()["data"]) == 2
    stats = httpx.get(server.url + "/stats").json()["totals"]
    assert stats["batch_items"] >= 2 and stats["inference_cpu_seconds"] > 0
    r = httpx.post(server.url + "/rerank", json={"query": "q", "passages": ["a", "b"]})
    assert r.status_code == 200
    # The API process tokenized, batched and answered both with the models' fronts alone:
    # torch is in the engine (where the check sees it), never in the API process.
    assert maps_torch(engine)
    assert not maps_torch(server.proc.pid)


@pytest.mark.parametrize("api_workers", ["1", "2"])
def test_killing_the_engine_fails_waiting_requests_with_503_and_exits_non_zero(
    start_server: Callable[..., ServerProcess], api_workers: str
) -> None:
    # two API processes before an engine of one pass thread, as on a GPU: their batches
    # wait at the engine to be joined into one pass when the engine dies
    threads = "1" if api_workers == "2" else "0"
    server = start_server(
        SHUTDOWN_DRAIN_SECONDS="30", API_WORKERS=api_workers, CPU_INFERENCE_WORKERS=threads
    )
    engine = int(httpx.get(server.url + "/health").json()["batch"]["engine_pid"])

    async def scenario() -> tuple[list[httpx.Response], list[int]]:
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=60) as load,
            httpx.AsyncClient(base_url=server.url, timeout=5) as probe,
        ):
            # Held, the engine answers nothing: all 8 are still waiting when it is killed.
            with engine_paused(engine):
                requests = [
                    asyncio.create_task(
                        load.post("/embeddings/", json={"sentences": [f"text {i}", "and more"]})
                    )
                    for i in range(8)
                ]
                await stats_when(probe, lambda stats: stats["queue"]["embed_pending"] >= 8)
                os.kill(engine, signal.SIGKILL)
            readiness: list[int] = []
            while not readiness or readiness[-1] == 200:
                try:
                    readiness.append((await probe.get("/readyz")).status_code)
                except httpx.TransportError:
                    readiness.append(0)  # the server has already exited
            return list(await asyncio.gather(*requests)), readiness

    answers, readiness = asyncio.run(scenario())
    assert readiness[-1] in (503, 0)
    assert [r.status_code for r in answers] == [503] * 8, [r.text for r in answers]
    for r in answers:
        assert "inference engine process exited" in r.json()["detail"]
    assert server.proc.wait(timeout=60) != 0
    # With several API processes the supervisor, whose child the engine is, reads its code.
    assert re.search(r"engine process exited \(exit code -9\)", server.log())


def test_sigterm_while_the_engine_loads_stops_it_at_once(
    server_env: dict[str, str],
) -> None:
    """A stop during start-up ends the engine process that is still loading (it ignores
    SIGTERM itself) instead of waiting for it to finish loading and then for a drain."""
    server = ServerProcess(server_env)
    try:
        # Held from the moment it is spawned (it then spends seconds importing torch), the
        # engine is still loading when the stop comes, however fast this machine loads.
        started = wait_until(lambda: ENGINE_STARTED.search(server.log()), bool, "engine spawn")
        engine = int(started[1])
        os.kill(engine, signal.SIGSTOP)
        wait_until(lambda: server.get_status("/livez") == 200 or server.proc.poll(), bool, "livez")
        assert server.get_status("/readyz") == 503, server.log()  # still loading
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=60) == 0, server.log()
        assert not os.path.exists(f"/proc/{engine}"), "the engine process outlived the server"
    finally:
        server.stop()
