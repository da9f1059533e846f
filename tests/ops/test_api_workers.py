"""Several API processes in front of one engine (API_WORKERS, app/front_ends.py), on a real
server: they share the port and the engine, answer /stats and /metrics for the whole pod, and
one that dies takes the pod down instead of leaving it half served."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable

import httpx

from tests.helpers import REPO, ServerProcess
from tests.ops.load import HANG_GUARD_S, engine_pid, maps_torch
from tests.ops.metrics_text import series, value

API_STARTED = re.compile(r"API process (\d+) started \(pid (\d+), private socket ([^)]+)\)")


def api_processes(server: ServerProcess) -> dict[int, tuple[int, str]]:
    """API process number -> (pid, private socket), from the supervisor's log."""
    return {int(n): (int(pid), path) for n, pid, path in API_STARTED.findall(server.log())}


def own_stats(private_socket: str) -> dict[str, int]:
    """One API process's own totals, asked on its private socket as a sibling would."""
    transport = httpx.HTTPTransport(uds=private_socket)
    with httpx.Client(transport=transport, base_url="http://api") as client:
        response = client.get("/stats", headers={"x-smart-embedder-scope": "process"})
    response.raise_for_status()
    totals: dict[str, int] = response.json()["totals"]
    return totals


def test_two_api_processes_share_one_engine_and_report_for_the_pod(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(API_WORKERS="2")
    processes = api_processes(server)
    assert sorted(processes) == [0, 1]
    health = httpx.get(server.url + "/health").json()
    assert health["batch"]["api_processes"] == 2
    engine = engine_pid(server.url)
    for pid, _ in processes.values():
        assert f"PPid:\t{server.proc.pid}\n" in open(f"/proc/{pid}/status").read()  # noqa: SIM115
    assert f"PPid:\t{server.proc.pid}\n" in open(f"/proc/{engine}/status").read()  # noqa: SIM115

    # start-up's own passes (the quantization calibration of each API process) come before
    before = httpx.get(server.url + "/stats").json()["totals"]["batch_items"]
    sent = 24
    for i in range(sent):  # a connection each: the kernel hands each to either process
        r = httpx.post(server.url + "/embeddings/", json={"sentences": [f"text {i}", "more"]})
        assert r.status_code == 200 and len(r.json()["data"]) == 2

    per_process = [own_stats(path) for _, path in processes.values()]
    assert sum(totals["requests"] for totals in per_process) == sent
    # Whichever process a scrape reaches, it counts every request of the pod.
    for _ in range(4):
        stats = httpx.get(server.url + "/stats").json()
        assert stats["total_requests"] == sent and stats["total_sentences"] == 2 * sent
        assert stats["totals"]["batch_items"] - before == 2 * sent
        assert stats["requests_by_endpoint"]["embeddings"] == sent
        metrics = httpx.get(server.url + "/metrics").text
        assert series(
            metrics, "embedding_requests_total", endpoint="/embeddings", status="success"
        ) == [sent]
        assert series(metrics, "embedding_sentences_processed_total") == [2 * sent]
        # a gauge that describes the pod is taken once, not added up
        assert value(metrics, "smart_embedder_server_info") == 1
    # each API process tokenizes with the models' fronts: torch only in the engine
    assert maps_torch(engine)
    assert not any(maps_torch(pid) for pid, _ in processes.values())
    assert not maps_torch(server.proc.pid)  # the supervisor
    assert server.stop() == 0


def test_an_api_process_that_dies_takes_the_pod_down(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(API_WORKERS="2", SHUTDOWN_DRAIN_SECONDS="30")
    engine = engine_pid(server.url)
    (victim, _), (survivor, _) = api_processes(server).values()
    os.kill(victim, signal.SIGKILL)
    code = server.proc.wait(timeout=HANG_GUARD_S)
    assert code != 0
    log = server.log()
    assert f"API process {victim} exited (exit code -9); stopping the others" in log
    for pid in (survivor, engine):  # nothing is left behind holding the port or the device
        assert (
            not os.path.exists(f"/proc/{pid}")
            or "State:\tZ"
            in open(  # noqa: SIM115
                f"/proc/{pid}/status"
            ).read()
        )


def test_several_api_processes_need_the_engine_process() -> None:
    env = {**os.environ, "API_WORKERS": "2", "ENGINE_PROCESS": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "smart-embedder: API_WORKERS above 1 needs ENGINE_PROCESS=true "
        "(several API processes share one engine process)"
    )
