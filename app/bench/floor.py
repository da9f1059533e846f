"""``python -m app.bench --floor``: our server against the floor of its own stack (issue 22).

The floor (``app.bench.floor_app``) is started after the server under test has stopped, with
its model's tokenizer, name and width, and takes the same loads: the run's own (c=32, 4 short
texts a request, for CPU per request) and one short text at c=1 (for p50). What is compared
is the API process's CPU only (the engine's is the model's side), and the c=1 p50.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.bench import serverside, wrk
from app.bench.load import LoadResult, run_load
from app.bench.workload import Workload
from app.testing.server import REPO, free_port


@dataclass(frozen=True)
class Served:
    """One server's figures for the comparison."""

    #: the run's own load (c=32 x 4 short texts): its API process's CPU per request
    load: LoadResult
    api_cpu_seconds: float
    #: one short text at c=1
    single: LoadResult

    @property
    def cpu_ms_per_request(self) -> float:
        return self.api_cpu_seconds / max(1, self.load.requests) * 1000


def single_text(args: argparse.Namespace) -> tuple[Workload, argparse.Namespace]:
    """The c=1 load: one short text a request, the run's client and length."""
    at = argparse.Namespace(**{**vars(args), "concurrency": 1, "batch_size": 1})
    return Workload("embed_dense", 1, args.requests + args.warmup, lengths="short"), at


def warm_up(url: str, workload: Workload, args: argparse.Namespace) -> str | None:
    if not args.warmup:
        return None
    bodies = workload.bodies()[: args.warmup]
    warm = run_load(url, workload.path, bodies, args.concurrency, 0)
    # Reported apart: counted with the timed ones they read as "errors 0/76" for 60.
    return (
        f"warm-up: {warm.requests} requests before timing, {warm.errors} failed "
        "(not in the figures above)"
    )


def drive(url: str, workload: Workload, args: argparse.Namespace) -> LoadResult:
    """The timed load, after the warm-up's bodies."""
    bodies = workload.bodies()[args.warmup :]
    if args.client == "wrk":
        return wrk.run_wrk(
            url,
            workload.path,
            bodies,
            concurrency=args.concurrency,
            seconds=args.duration,
            units_per_request=args.batch_size,
        )
    return run_load(url, workload.path, bodies, args.concurrency, 0)


def api_pids(root: int, engine: int | None) -> list[int]:
    """The server's processes but the engine's (a supervisor, if any, spends next to nothing)."""
    engine_side = set(serverside.process_tree(engine)) if engine is not None else set()
    return [pid for pid in serverside.process_tree(root) if pid not in engine_side]


def cpu_seconds(pids: list[int]) -> float:
    return sum(serverside.process_cpu_seconds(pid) for pid in pids)


@contextmanager
def floor_server(model_dir: Path, name: str) -> Iterator[tuple[str, int]]:
    """The floor app on a free loopback port: its URL and process id, stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "app.bench.floor_app", "--model-dir", str(model_dir)]
    proc = subprocess.Popen([*command, "--name", name, "--port", str(port)], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the floor app exited {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("the floor app did not answer in 120 s") from None
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure_floor(
    model_dir: Path, name: str, workload: Workload, args: argparse.Namespace
) -> Served:
    """The floor under the run's load and the c=1 one, as the server took them."""
    single, single_args = single_text(args)
    with floor_server(model_dir, name) as (url, pid):
        warm_up(url, workload, args)
        before = cpu_seconds([pid])
        load = drive(url, workload, args)
        used = cpu_seconds([pid]) - before
        warm_up(url, single, single_args)
        single_load = drive(url, single, single_args)
    return Served(load, used, single_load)


def floor_lines(ours: Served, floor: Served) -> list[str]:
    cpu_ratio = ours.cpu_ms_per_request / floor.cpu_ms_per_request
    p50_ours, p50_floor = ours.single.percentile(50), floor.single.percentile(50)
    return [
        f"floor (Litestar + uvicorn + msgspec, tokenizer only; app/bench/floor_app.py): "
        f"{floor.load.req_per_s:.1f} req/s, API process CPU {floor.cpu_ms_per_request:.3f} ms "
        f"per request",
        f"ours / floor, API process CPU per request: {ours.cpu_ms_per_request:.3f} / "
        f"{floor.cpu_ms_per_request:.3f} ms = {cpu_ratio:.2f}x "
        f"(req/s {ours.load.req_per_s:.1f} / {floor.load.req_per_s:.1f})",
        f"c=1, one short text: p50 ours {p50_ours:.2f} ms, floor {p50_floor:.2f} ms, "
        f"difference {p50_ours - p50_floor:+.2f} ms",
    ]
