"""Load from ``wrk`` (a C load generator, Debian's ``wrk`` package): it takes a fraction of a
core where a Python client takes most of one, so on a shared machine nearly all the CPU is
left to the server. A Lua script cycles through the benchmark's distinct bodies."""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from app.bench.load import LoadResult

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_script(bodies: list[dict[str, Any]]) -> str:
    encoded = [msgspec.json.encode(b).decode() for b in bodies]
    rows = ",\n".join(f"[==[{body}]==]" for body in encoded)
    return (
        f"local bodies = {{\n{rows}\n}}\n"
        "local headers = {['Content-Type'] = 'application/json'}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        "  return wrk.format('POST', nil, headers, bodies[i])\n"
        "end\n"
    )


def run_wrk(
    base_url: str,
    path: str,
    bodies: list[dict[str, Any]],
    *,
    concurrency: int,
    seconds: float,
    units_per_request: int,
) -> LoadResult:
    """``concurrency`` connections on one wrk thread for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bodies.lua"
        script.write_text(lua_script(bodies))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "60s",
                "-s",
                str(script),
                base_url.rstrip("/") + path,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 120,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return parse(out, units_per_request, client_cpu=_cpu(after) - _cpu(before))


def _cpu(usage: resource.struct_rusage) -> float:
    return float(usage.ru_utime + usage.ru_stime)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse(output: str, units_per_request: int, *, client_cpu: float = 0.0) -> LoadResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done is None:
        raise ValueError(f"wrk printed no summary:\n{output}")
    requests = int(done.group(1))
    seconds = _ms(done.group(2), done.group(3)) / 1000
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(failed.group(1)) if failed else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    percentiles = {
        float(p): _ms(v, u)
        for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    average = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)", output)
    return LoadResult(
        requests=requests,
        errors=errors,
        seconds=seconds,
        latencies_ms=[],
        units=(requests - errors) * units_per_request,
        client_cpu_seconds=client_cpu,
        reported_percentiles=percentiles,
        reported_mean_ms=_ms(average.group(1), average.group(2)) if average else float("nan"),
    )
