"""Where ColBERT pooling costs least: the API process or the engine (``python -m
app.bench.colbert placement``).

The same load twice, on the bge-m3-shaped stand-in of ``colbert_cost``: 4 clients, each
sending 6 requests of 4 passages of 300 tokens (float16, MessagePack), pooled by 2 either by
the shipped code (``colbert_pool_factor: 2``, in the API process) or in the engine's pass.
The server pools only in the API process; the engine side is measured with this patch to
``app/engine/passes.py`` applied by hand (not kept), at the end of ``run_pass``::

    factor = int(os.environ.get("SMART_EMBEDDER_POOL_IN_ENGINE", "1"))
    if factor > 1 and not pairs:
        for item in results:
            if item.colbert is not None:
                item.colbert = pool_tokens(np.asarray(item.colbert, np.float32), factor)

Without it the "engine" runs are not pooled at all, and the check below says so. Prints
passages per second, the median latency and each process's CPU per passage.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from typing import Any

import httpx

from app.bench.colbert_cost import bench_model, passages_of

ENGINE_SWITCH = "SMART_EMBEDDER_POOL_IN_ENGINE"
CLIENTS, REQUESTS = 4, 6


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def body(texts: list[str], factor: int) -> dict[str, Any]:
    return {
        "sentences": texts,
        "return_dense": False,
        "return_sparse": False,
        "colbert_pool_factor": factor,
        "colbert_type": "float16",
    }


def load(url: str, texts: list[str], factor: int, clients: int, requests: int) -> list[float]:
    """Each request's latency; the clients run side by side."""
    latencies: list[float] = []

    def client() -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            for _ in range(requests):
                started = time.perf_counter()
                r = http.post(
                    "/embeddings/",
                    json=body(texts, factor),
                    headers={"accept": "application/msgpack"},
                )
                r.raise_for_status()
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def one_run(where: str, texts: list[str], env: dict[str, str]) -> tuple[float, ...]:
    from app.testing.server import ServerProcess

    factor = 2 if where == "api" else 1
    extra = {ENGINE_SWITCH: "2"} if where == "engine" else {}
    with ServerProcess({**env, **extra}) as server, httpx.Client(base_url=server.url) as http:
        server.wait_ready(600)
        engine = int(http.get("/health").json()["batch"]["engine_pid"])
        check = http.post("/embeddings/", json={**body(texts[:1], factor), "colbert_type": "float"})
        rows = len(check.json()["data"][0]["embeddings"]["colbert"])
        if rows >= 299:
            raise SystemExit(f"{where}: not pooled ({rows} rows): is the engine patch applied?")
        load(server.url, texts, factor, 2, 2)  # warm-up, not counted
        api_before, engine_before = cpu_seconds(server.proc.pid), cpu_seconds(engine)
        started = time.perf_counter()
        latencies = load(server.url, texts, factor, CLIENTS, REQUESTS)
        elapsed = time.perf_counter() - started
        passages = CLIENTS * REQUESTS * len(texts)
        return (
            passages / elapsed,
            statistics.median(latencies) * 1000,
            (cpu_seconds(server.proc.pid) - api_before) / passages * 1000,
            (cpu_seconds(engine) - engine_before) / passages * 1000,
        )


def placement(runs: int) -> None:
    model = bench_model()
    texts = passages_of(model, 4)
    env = {
        "BGE_M3_MODEL": str(model),
        "RERANKER_MODEL": "",
        "DEVICE": "cpu",
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "API_WORKERS": "1",
    }
    found: dict[str, list[tuple[float, ...]]] = {"api": [], "engine": []}
    for run in range(runs):
        for where in found:
            found[where].append(one_run(where, texts, env))
            rate, median, api_cpu, engine_cpu = found[where][-1]
            print(
                f"run {run + 1}, pooled in the {where}: {rate:.1f} passages/s, median "
                f"{median:.0f} ms, CPU per passage: API {api_cpu:.1f} ms, engine "
                f"{engine_cpu:.1f} ms",
                flush=True,
            )
    for where, rows in found.items():
        cells = [
            f"{statistics.median(r[i] for r in rows):.1f} "
            f"({min(r[i] for r in rows):.1f}-{max(r[i] for r in rows):.1f})"
            for i in range(4)
        ]
        # passages/s, median latency ms, API process CPU ms, engine CPU ms per passage
        print(f"| {where} | " + " | ".join(cells) + " |")
