"""The engine in its own process (app/engine/process.py), on a real server: the models run in
a child process, and when that process dies the server says so at once and goes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import httpx

from tests.helpers import ServerProcess
from tests.ops.load import heavy_texts, stats_when


def test_the_models_run_in_a_child_process(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server()
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


def test_killing_the_engine_fails_waiting_requests_with_503_and_exits_non_zero(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(SHUTDOWN_DRAIN_SECONDS="30")
    engine = int(httpx.get(server.url + "/health").json()["batch"]["engine_pid"])
    body = {"sentences": heavy_texts(32, words=300), "return_colbert": False}

    async def scenario() -> tuple[list[httpx.Response], list[int]]:
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=60) as load,
            httpx.AsyncClient(base_url=server.url, timeout=5) as probe,
        ):
            requests = [asyncio.create_task(load.post("/embeddings/", json=body)) for _ in range(8)]
            # Every request admitted and most still waiting behind the first batches.
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
    failed = [r for r in answers if r.status_code != 200]
    assert failed, "the engine was killed with requests waiting"
    for r in failed:
        assert r.status_code == 503, r.text
        assert "inference engine process exited" in r.json()["detail"]
    assert server.proc.wait(timeout=60) != 0
    assert "inference engine process exited (exit code -9)" in server.log()


def test_sigterm_while_the_engine_loads_stops_it_at_once(
    server_env: dict[str, str],
) -> None:
    """A stop during start-up ends the engine process that is still loading (it ignores
    SIGTERM itself) instead of waiting for it to finish loading and then for a drain."""
    server = ServerProcess(server_env)
    try:
        while server.get_status("/livez") != 200:
            assert server.proc.poll() is None, server.log()
            time.sleep(0.05)
        assert server.get_status("/readyz") == 503  # still loading
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=60) == 0, server.log()
        engines = [
            line
            for line in server.log().splitlines()
            if "engine process" in line and "started" in line
        ]
        assert engines, server.log()
        engine = int(engines[0].split("engine process ")[1].split()[0])
        assert not os.path.exists(f"/proc/{engine}"), "the engine process outlived the server"
    finally:
        server.stop()
