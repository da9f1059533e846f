"""``--soak MINUTES``: a fixed mixed workload for a long time, and the resident memory (RSS) of
every server process sampled at a fixed interval, to tell a pod that will be OOM-killed after
days from one whose memory levels off.

The workload cycles, at a fixed concurrency, through: embeddings of four texts of mixed
lengths (dense, every other one with sparse too), reranks of four mixed passages, and now and
then one long text, so many distinct batch shapes reach the model, as in production.

The run ends after a number of samples (``minutes * 60 / interval``), not at a clock reading,
so a test with a tiny interval decides on the samples it saw. Reported per process: RSS at the
start, the end and its peak, its growth per minute over the last third of the run (a least
squares slope), whether that is under the level threshold, and the allocator the process
runs on (read from ``/proc/PID/maps``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from app.bench.serverside import process_tree
from app.bench.workload import mixed_texts

#: growth per minute under which a process counts as level (the issue's bar: 1 MB a minute)
LEVEL_MB_PER_MIN = 1.0
_PAGE = 4096


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, from /proc/PID/statm (pages)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


def allocator(pid: int) -> str:
    """The malloc a process runs on: a preloaded jemalloc or tcmalloc shows in its mappings;
    otherwise glibc's, with the MALLOC_* tunables of its environment."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return "unknown"
    for name in ("jemalloc", "tcmalloc"):
        if f"lib{name}" in maps:
            return name
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        environ = []
    tunables = sorted(e.decode() for e in environ if e.startswith((b"MALLOC_", b"GLIBC_TUN")))
    return "glibc" + (f" ({', '.join(tunables)})" if tunables else "")


def soak_bodies(
    count: int = 600, *, max_words: int = 128, long_words: int = 400, rerank: bool = True
) -> list[tuple[str, bytes, int]]:
    """The fixed workload, as (path, encoded body, texts or pairs in it), one cycle of
    ``count`` requests: every fifth a rerank (an embedding where the server has no
    reranker), every tenth one long text (``long_words`` words, which the server truncates
    at the model's limit), the rest embeddings."""
    texts = mixed_texts(count * 4, seed=21, max_words=max_words)
    longs = mixed_texts(count // 10 + 1, seed=22, min_words=long_words // 4, max_words=long_words)
    queries = mixed_texts(count, seed=23, max_words=16)
    bodies: list[tuple[str, bytes, int]] = []
    for i in range(count):
        four = [f"{t} {i}" for t in texts[i * 4 : (i + 1) * 4]]
        if i % 10 == 9:
            body: dict[str, Any] = {"sentences": [f"{longs[i // 10]} {i}"], "return_dense": True}
            bodies.append(("/embeddings/", msgspec.json.encode(body), 1))
        elif i % 5 == 4 and rerank:
            body = {"query": queries[i], "passages": four}
            bodies.append(("/rerank", msgspec.json.encode(body), 4))
        else:
            body = {"sentences": four, "return_dense": True, "return_sparse": i % 2 == 0}
            bodies.append(("/embeddings/", msgspec.json.encode(body), 4))
    return bodies


@dataclass
class Sample:
    seconds: float  # since the load started
    rss: dict[str, int]  # role (api, api-2, engine...) -> bytes


@dataclass
class ProcessFigures:
    role: str
    pid: int
    allocator: str
    start_mb: float
    end_mb: float
    peak_mb: float
    #: least-squares slope over the last third of the samples, MB per minute
    growth_mb_per_min: float
    level: bool


@dataclass
class SoakResult:
    title: str
    interval_s: float
    samples: list[Sample]
    processes: list[ProcessFigures]
    requests: int = 0
    errors: int = 0
    units: int = 0
    seconds: float = 0.0
    by_path: dict[str, int] = field(default_factory=dict)
    #: the failed requests by their HTTP status ("no answer": the connection failed)
    failed_by: dict[str, int] = field(default_factory=dict)

    @property
    def units_per_s(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    def lines(self) -> list[str]:
        lines = [
            self.title,
            f"{self.requests} requests ({', '.join(f'{p} {n}' for p, n in self.by_path.items())})"
            f", {self.errors} failed{self._failures()}, {self.units_per_s:.1f} texts or "
            f"pairs/s over "
            f"{self.seconds / 60:.1f} min; RSS sampled every {self.interval_s:g} s "
            f"({len(self.samples)} samples)",
        ]
        for p in self.processes:
            lines.append(
                f"{p.role} (pid {p.pid}, {p.allocator}): RSS {p.start_mb:.0f} -> "
                f"{p.end_mb:.0f} MB, peak {p.peak_mb:.0f} MB; last third "
                f"{p.growth_mb_per_min:+.2f} MB/min: " + ("level" if p.level else "still growing")
            )
        return lines

    def _failures(self) -> str:
        if not self.failed_by:
            return ""
        return " (" + ", ".join(f"{why}: {n}" for why, n in sorted(self.failed_by.items())) + ")"

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))


def roles(api_pid: int, engine_pid: int | None) -> dict[int, str]:
    """pid -> role for the server's processes: ``engine``, and ``api`` (one API process) or
    ``supervisor`` and ``api-1``, ``api-2``... (API_WORKERS > 1)."""
    tree = process_tree(api_pid)
    if engine_pid is not None and engine_pid not in tree:
        tree.append(engine_pid)
    others = []
    for pid in tree:
        if pid == engine_pid:
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:  # multiprocessing's helper, not ours
            others.append(pid)
    named = {engine_pid: "engine"} if engine_pid is not None else {}
    if len(others) == 1:
        named[others[0]] = "api"
    else:
        named[others[0]] = "supervisor"
        named.update({pid: f"api-{n}" for n, pid in enumerate(others[1:], start=1)})
    return named


def slope_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread * 60


def figures(
    samples: list[Sample], pids: dict[int, str], allocators: dict[str, str], level: float
) -> list[ProcessFigures]:
    out = []
    for pid, role in pids.items():
        series = [(s.seconds, s.rss[role] / 2**20) for s in samples if role in s.rss]
        if not series:
            continue
        last_third = series[len(series) - max(2, len(series) // 3) :]
        growth = slope_per_min(last_third)
        out.append(
            ProcessFigures(
                role=role,
                pid=pid,
                allocator=allocators.get(role, "unknown"),
                start_mb=series[0][1],
                end_mb=series[-1][1],
                peak_mb=max(mb for _, mb in series),
                growth_mb_per_min=growth,
                level=growth < level,
            )
        )
    return out


@dataclass
class _Load:
    requests: int = 0
    errors: int = 0
    units: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    failed_by: dict[str, int] = field(default_factory=dict)


async def _drive(
    url: str, bodies: list[tuple[str, bytes, int]], concurrency: int, stop: threading.Event
) -> _Load:
    import aiohttp

    load = _Load()
    next_body = 0
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=600)
    ) as session:

        async def client() -> None:
            nonlocal next_body
            while True:  # one request at least, then until stopped
                path, body, units = bodies[next_body % len(bodies)]
                next_body += 1
                retry_after = 0.0
                why = "no answer"
                try:
                    async with session.post(url + path, data=body, headers=headers) as response:
                        await response.read()
                        ok = response.status == 200
                        why = str(response.status)
                        if response.status == 503:  # a full queue: wait as it asks
                            retry_after = float(response.headers.get("retry-after", "1"))
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                    # a connection the server closed as it was reused (keep-alive timeout on
                    # a loaded machine): counted as failed, and the soak goes on
                    ok = False
                load.requests += 1
                load.by_path[path] = load.by_path.get(path, 0) + 1
                if ok:
                    load.units += units
                else:
                    load.errors += 1
                    load.failed_by[why] = load.failed_by.get(why, 0) + 1
                    await asyncio.sleep(retry_after)
                if stop.is_set():
                    return

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return load


def _health(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
        health: dict[str, Any] = json.load(response)
    return health


def engine_pid(url: str) -> int | None:
    pid = (_health(url).get("batch") or {}).get("engine_pid")
    return int(pid) if pid else None


def has_reranker(url: str) -> bool:
    return bool(_health(url).get("reranker_model"))


def run_soak(
    url: str,
    api_pid: int,
    *,
    samples: int,
    interval_s: float,
    concurrency: int = 8,
    max_words: int = 128,
    long_words: int = 400,
    title: str = "soak",
    level_mb_per_min: float = LEVEL_MB_PER_MIN,
    on_sample: Any = None,
) -> SoakResult:
    """Drive the workload while taking ``samples`` RSS samples ``interval_s`` apart (the
    first as the load starts), then stop the load and report."""
    bodies = soak_bodies(max_words=max_words, long_words=long_words, rerank=has_reranker(url))
    pids = roles(api_pid, engine_pid(url))
    allocators = {role: allocator(pid) for pid, role in pids.items()}
    stop = threading.Event()
    loaded: list[_Load] = []
    worker = threading.Thread(
        target=lambda: loaded.append(asyncio.run(_drive(url, bodies, concurrency, stop))),
        daemon=True,
    )
    taken: list[Sample] = []
    started = time.monotonic()
    worker.start()
    try:
        for i in range(samples):
            if i:
                stop.wait(interval_s)  # the load never sets it: a plain, interruptible wait
            rss = {}
            for pid, role in pids.items():
                try:
                    rss[role] = rss_bytes(pid)
                except OSError:
                    continue  # the process ended: its series stops
            taken.append(Sample(time.monotonic() - started, rss))
            if on_sample is not None:
                on_sample(taken[-1])
    finally:
        stop.set()
        worker.join()
    seconds = time.monotonic() - started
    load = loaded[0] if loaded else _Load()
    return SoakResult(
        title=title,
        interval_s=interval_s,
        samples=taken,
        processes=figures(taken, pids, allocators, level_mb_per_min),
        requests=load.requests,
        errors=load.errors,
        units=load.units,
        seconds=seconds,
        by_path=load.by_path,
        failed_by=load.failed_by,
    )


def plot_soak(result: SoakResult, path: Path) -> Path:
    """RSS of each process against minutes into the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for process in result.processes:
        points = [
            (s.seconds / 60, s.rss[process.role] / 2**20)
            for s in result.samples
            if process.role in s.rss
        ]
        axis.plot(
            [x for x, _ in points],
            [y for _, y in points],
            "o-",
            markersize=3,
            label=f"{process.role} ({process.allocator.split(' ')[0]}, "
            f"{process.growth_mb_per_min:+.1f} MB/min)",
        )
    axis.set_xlabel("minutes")
    axis.set_ylabel("RSS, MB")
    axis.set_ylim(bottom=0)
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize="small")
    axis.set_title(result.title, fontsize="small", wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
