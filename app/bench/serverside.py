"""What the server itself spent during a run: the CPU of its processes (API and engine),
read from /proc, and its batch counters, read from /stats; the difference of two samples
taken around the timed load."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it (a server with several API processes is a
    supervisor, its API processes and the engine)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, frontier = [root], [root]
    while frontier:
        frontier = [child for pid in frontier for child in children.get(pid, [])]
        tree.extend(frontier)
    return tree


@dataclass(frozen=True)
class ServerSample:
    cpu_seconds: float
    batches: int
    batch_items: int
    inference_cpu_seconds: float

    def __sub__(self, other: ServerSample) -> ServerSample:
        return ServerSample(
            cpu_seconds=self.cpu_seconds - other.cpu_seconds,
            batches=self.batches - other.batches,
            batch_items=self.batch_items - other.batch_items,
            inference_cpu_seconds=self.inference_cpu_seconds - other.inference_cpu_seconds,
        )


def sample(url: str, pids: list[int]) -> ServerSample:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
        totals = json.load(response)["totals"]
    return ServerSample(
        cpu_seconds=sum(process_cpu_seconds(pid) for pid in pids),
        batches=int(totals["batches"]),
        batch_items=int(totals["batch_items"]),
        inference_cpu_seconds=float(totals.get("inference_cpu_seconds", 0.0)),
    )


def engine_pid(url: str) -> int | None:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        pid = (json.load(response).get("batch") or {}).get("engine_pid")
    return int(pid) if pid else None


def usage_lines(used: ServerSample, *, requests: int, seconds: float) -> list[str]:
    per_batch = used.batch_items / used.batches if used.batches else 0.0
    lines = [f"texts per batch: {per_batch:.1f} ({used.batch_items} in {used.batches} batches)"]
    if used.cpu_seconds > 0 and requests:
        serving = used.cpu_seconds - used.inference_cpu_seconds
        lines.append(
            f"server CPU: {used.cpu_seconds / seconds:.2f} cores in use; "
            f"{used.cpu_seconds / requests * 1000:.2f} ms per request in all, "
            f"of which the serving layer (all but the forward passes' own threads) "
            f"{serving / requests * 1000:.2f} ms"
        )
    return lines
