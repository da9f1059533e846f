"""``--scenario mixed``: live queries beside an indexer that floods the server.

- the indexer: 16 connections, 32 mixed-length texts a request, as fast as it is answered,
  marked ``X-Priority: batch``;
- the query client: 2 connections, one short text a request, interactive (it says nothing);
  or, with ``query_rate``, an open loop: queries at that mean rate (Poisson arrivals, seeded),
  each timed from when it was due, whatever the server's speed. A closed-loop client sends
  more queries the faster they are answered, so on a server whose cores it shares "faster
  queries" and "more query work taken from the indexer" cannot be told apart; a real query
  path sends what its users ask.

Each run starts a server with priorities on and one with them off (``PRIORITIES=false``:
everything is interactive, as before classes), and on each, for a fixed time apiece: the
queries alone (an idle server), the indexer alone, then both. Reported per run: the queries'
p50 / p99 alone and under the flood, the indexer's texts/s alone and beside the queries, and
the flood's mean pass (``/stats``: inference seconds / batches while the indexer ran alone),
which with the idle p99 gives the bound the queries must meet: idle p99 + one mean pass.

Each client runs in a process of its own, so that neither's event loop delays the other's
timings.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.bench.workload import WORD_RANGES, mixed_texts

INDEXER_CONCURRENCY = 16
INDEXER_TEXTS = 32
QUERY_CONCURRENCY = 2
PATH = "/embeddings/"


@dataclass
class ClientResult:
    latencies_ms: list[float] = field(default_factory=list)
    texts: int = 0
    errors: int = 0
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    @property
    def texts_per_s(self) -> float:
        return self.texts / self.seconds if self.seconds else 0.0


def indexer_bodies(count: int = 400) -> list[bytes]:
    low, high = WORD_RANGES["mixed"]
    texts = mixed_texts(count * INDEXER_TEXTS, seed=11, min_words=low, max_words=high)
    return [
        msgspec.json.encode(
            {
                "sentences": [
                    f"{t} {i * INDEXER_TEXTS + j}"
                    for j, t in enumerate(texts[i * INDEXER_TEXTS : (i + 1) * INDEXER_TEXTS])
                ],
                "return_dense": True,
                "return_sparse": False,
                "return_colbert": False,
            }
        )
        for i in range(count)
    ]


def query_bodies(count: int = 4000) -> list[bytes]:
    low, high = WORD_RANGES["short"]
    texts = mixed_texts(count, seed=13, min_words=low, max_words=high)
    return [
        msgspec.json.encode(
            {
                "sentences": [f"{t} {i}"],
                "return_dense": True,
                "return_sparse": False,
                "return_colbert": False,
            }
        )
        for i, t in enumerate(texts)
    ]


async def _drive(
    url: str,
    bodies: list[bytes],
    texts_per_body: int,
    concurrency: int,
    seconds: float,
    headers: dict[str, str],
    rate: float = 0.0,
) -> ClientResult:
    import aiohttp

    if rate > 0:
        return await drive_open_loop(url, bodies, texts_per_body, seconds, headers, rate)
    result = ClientResult()
    next_body = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    sent_headers = {"content-type": "application/json", **headers}
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=600)
    ) as session:

        async def client() -> None:
            nonlocal next_body
            while time.perf_counter() < deadline:
                body = bodies[next_body % len(bodies)]
                next_body += 1
                retry_after = await _post_timed(
                    session, url, body, sent_headers, time.perf_counter(), texts_per_body, result
                )
                if retry_after is not None:  # a full queue: retry after its Retry-After
                    await asyncio.sleep(retry_after)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def _post_timed(
    session: Any,
    url: str,
    body: bytes,
    headers: dict[str, str],
    since: float,
    texts: int,
    result: ClientResult,
) -> float | None:
    """One request, its latency counted from ``since``; a 503's Retry-After, in seconds."""
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        status, retry_after = response.status, response.headers.get("retry-after", "1")
    if status == 200:
        result.latencies_ms.append((time.perf_counter() - since) * 1000)
        result.texts += texts
        return None
    result.errors += 1
    return float(retry_after) if status == 503 else None


async def drive_open_loop(
    url: str,
    bodies: list[bytes],
    texts_per_body: int,
    seconds: float,
    headers: dict[str, str],
    rate: float,
) -> ClientResult:
    """Requests at ``rate`` a second on average (exponential gaps, seeded), each timed from
    the moment it was due: a slow answer delays no later request and hides no wait."""
    import aiohttp

    result = ClientResult()
    gaps = random.Random(17)
    sent_headers = {"content-type": "application/json", **headers}
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=600)
    ) as session:

        async def one(body: bytes, due: float) -> None:
            await _post_timed(session, url, body, sent_headers, due, texts_per_body, result)

        started = time.perf_counter()
        due, sent, tasks = started, 0, []
        while True:
            due += gaps.expovariate(rate)
            if due - started >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.ensure_future(one(bodies[sent % len(bodies)], due)))
            sent += 1
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - started
    return result


def _client_process(role: str, url: str, seconds: float, out: Any, query_rate: float) -> None:
    if role == "indexer":
        result = asyncio.run(
            _drive(
                url,
                indexer_bodies(),
                INDEXER_TEXTS,
                INDEXER_CONCURRENCY,
                seconds,
                {"X-Priority": "batch"},
            )
        )
    else:
        result = asyncio.run(
            _drive(url, query_bodies(), 1, QUERY_CONCURRENCY, seconds, {}, rate=query_rate)
        )
    out.put((role, msgspec.json.encode(result)))


def run_clients(
    url: str, roles: list[str], seconds: float, query_rate: float = 0.0
) -> dict[str, ClientResult]:
    """The given clients side by side for ``seconds``, each in a process of its own."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [
        context.Process(target=_client_process, args=(role, url + PATH, seconds, out, query_rate))
        for role in roles
    ]
    for process in processes:
        process.start()
    results = {}
    for _ in processes:
        role, encoded = out.get(timeout=seconds + 600)
        results[role] = msgspec.json.decode(encoded, type=ClientResult)
    for process in processes:
        process.join()
    return results


def _stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/stats", timeout=30) as response:
        stats: dict[str, Any] = json.load(response)
    return stats


@dataclass
class ModeResult:
    """One server's figures (priorities on or off) in one run."""

    queries_alone: ClientResult
    indexer_alone: ClientResult
    queries_flooded: ClientResult
    indexer_with_queries: ClientResult
    #: the flood's mean forward pass, ms (the indexer alone)
    mean_pass_ms: float


def measure_mode(url: str, seconds: float, query_rate: float = 0.0) -> ModeResult:
    # warm-up: both clients briefly, untimed (first passes, connections, caches of shapes)
    run_clients(url, ["indexer", "queries"], min(3.0, seconds), query_rate)
    queries_alone = run_clients(url, ["queries"], seconds, query_rate)["queries"]
    before = _stats(url)["totals"]
    indexer_alone = run_clients(url, ["indexer"], seconds)["indexer"]
    after = _stats(url)["totals"]
    passes = after["batches"] - before["batches"]
    mean_pass = (after["inference_seconds"] - before["inference_seconds"]) / max(1, passes)
    both = run_clients(url, ["indexer", "queries"], seconds, query_rate)
    return ModeResult(
        queries_alone=queries_alone,
        indexer_alone=indexer_alone,
        queries_flooded=both["queries"],
        indexer_with_queries=both["indexer"],
        mean_pass_ms=mean_pass * 1000,
    )


def run_mixed(
    env: dict[str, str],
    *,
    runs: int,
    seconds: float,
    start_server: Callable[[dict[str, str]], Any],
    query_rate: float = 0.0,
    modes: tuple[str, ...] = ("on", "off"),
) -> dict[str, list[ModeResult]]:
    """``runs`` runs, each of a server with priorities on, then one with them off."""
    results: dict[str, list[ModeResult]] = {mode: [] for mode in modes}
    for run in range(runs):
        for mode in modes:
            with start_server({**env, "PRIORITIES": "true" if mode == "on" else "false"}) as url:
                result = measure_mode(url, seconds, query_rate)
            results[mode].append(result)
            print(f"run {run + 1}, priorities {mode}: {mode_line(result)}", flush=True)
    return results


def mode_line(r: ModeResult) -> str:
    bound = r.queries_alone.percentile(99) + r.mean_pass_ms
    return (
        f"queries alone p50 {r.queries_alone.percentile(50):.0f} p99 "
        f"{r.queries_alone.percentile(99):.0f} ms; under the flood p50 "
        f"{r.queries_flooded.percentile(50):.0f} p99 {r.queries_flooded.percentile(99):.0f} ms "
        f"at {r.queries_flooded.texts_per_s:.1f} queries/s "
        f"(bound {bound:.0f} = idle p99 + mean pass {r.mean_pass_ms:.0f}); indexer "
        f"{r.indexer_alone.texts_per_s:.1f} texts/s alone, "
        f"{r.indexer_with_queries.texts_per_s:.1f} with the queries "
        f"({r.indexer_with_queries.texts_per_s / r.indexer_alone.texts_per_s:.2f}x); "
        f"errors {r.queries_flooded.errors + r.indexer_with_queries.errors}"
    )


def _spread(values: list[float], unit: str = "", digits: int = 0) -> str:
    """median (min-max)"""
    fmt = f"{{:.{digits}f}}"
    return (
        f"{fmt.format(statistics.median(values))}{unit} "
        f"({fmt.format(min(values))}-{fmt.format(max(values))})"
    )


def summary_lines(results: dict[str, list[ModeResult]]) -> list[str]:
    lines = []
    for mode, runs in results.items():
        lines.append(
            f"priorities {mode}, {len(runs)} runs, median (min-max): "
            f"queries alone p50 {_spread([r.queries_alone.percentile(50) for r in runs], ' ms')}"
            f", p99 {_spread([r.queries_alone.percentile(99) for r in runs], ' ms')}; "
            f"under the flood p50 "
            f"{_spread([r.queries_flooded.percentile(50) for r in runs], ' ms')}, p99 "
            f"{_spread([r.queries_flooded.percentile(99) for r in runs], ' ms')}; "
            f"bound (idle p99 + mean pass) "
            f"{_spread([r.queries_alone.percentile(99) + r.mean_pass_ms for r in runs], ' ms')}"
            f"; mean pass {_spread([r.mean_pass_ms for r in runs], ' ms')}; indexer alone "
            f"{_spread([r.indexer_alone.texts_per_s for r in runs], ' texts/s', 1)}, with "
            f"the queries "
            f"{_spread([r.indexer_with_queries.texts_per_s for r in runs], ' texts/s', 1)} ("
            + _spread(
                [r.indexer_with_queries.texts_per_s / r.indexer_alone.texts_per_s for r in runs],
                "x",
                2,
            )
            + ")"
        )
    return lines
