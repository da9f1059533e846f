"""Printing results and appending them, with the hardware, to BENCHMARKS.md."""

from __future__ import annotations

import platform
import shlex
import sys
import time
from pathlib import Path

from app.bench.load import LoadResult
from app.bench.raw import RawResult
from app.cpu import affinity_cores


def hardware() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"{affinity_cores()} cores of {cpu}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
        else:
            parts.append("no GPU")
    except ImportError:
        pass
    parts.append(f"Python {platform.python_version()}")
    return ", ".join(parts)


def load_lines(label: str, result: LoadResult, unit: str) -> list[str]:
    # wrk reports p50/p75/p90/p99; the aiohttp client keeps every latency
    middle = 90 if result.reported_percentiles else 95
    return [
        f"{label}: {result.req_per_s:.1f} req/s, {result.units_per_s:.1f} {unit}/s, "
        f"latency ms avg {result.mean_ms:.1f} p50 {result.percentile(50):.1f} "
        f"p{middle} {result.percentile(middle):.1f} p99 {result.percentile(99):.1f}, "
        f"errors {result.errors}/{result.requests} timed requests, "
        f"load generator CPU {result.client_cpu_share:.0%} of the machine"
    ]


def summary(
    *,
    title: str,
    batched: LoadResult,
    unit: str,
    raws: list[RawResult],
    unbatched: LoadResult | None,
) -> list[str]:
    lines = load_lines("server", batched, unit)
    for raw in raws:
        layout = (
            "one pass at a time"
            if raw.workers == 1
            else f"{raw.workers} single-threaded passes side by side, one process each"
        )
        suffix = "" if raw.workers == 1 else f" ({raw.workers} workers)"
        lines.append(
            f"raw forward{suffix}: {raw.units_per_s:.1f} {unit}/s "
            f"(ideal batches, {layout}, no HTTP)"
        )
        lines.append(f"server / raw{suffix} = {batched.units_per_s / raw.units_per_s:.3f}")
    if len(raws) > 1:
        best = max(raw.units_per_s for raw in raws)
        lines.append(
            f"server / machine ceiling (the better raw) = {batched.units_per_s / best:.3f}"
        )
    if unbatched is not None:
        lines += load_lines("server, no cross-request batching", unbatched, unit)
        lines.append(f"batched / unbatched = {batched.units_per_s / unbatched.units_per_s:.2f}x")
    return [title, *lines]


def append_markdown(path: Path, lines: list[str]) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = "python -m app.bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    block = [
        f"### {lines[0]} ({stamp})",
        "",
        f"- hardware: {hardware()}",
        f"- command: `{command}`",
        *[f"- {line}" for line in lines[1:]],
        "",
    ]
    with path.open("a") as out:
        out.write("\n".join(block) + "\n")
