"""How much memory each process of a running server holds, and which of them imported torch.

    python -m app.bench.api_rss --tiny
    python -m app.bench.api_rss --env PRESET=offline --env API_WORKERS=2

Starts ``python -m app serve`` with the given environment, sends a few embedding and rerank
requests (so the tokenizers and the response paths have run), then reads each process's
resident memory (``VmRSS``) and whether torch's C++ library is mapped into it (``import
torch`` maps it for the life of the process). Prints one line per process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from app.bench.serverside import process_tree
from app.testing.server import ServerProcess


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def maps_torch(pid: int) -> bool:
    return "/libtorch" in Path(f"/proc/{pid}/maps").read_text()


def _post(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def report(env: dict[str, str]) -> list[str]:
    with ServerProcess(env) as server:
        server.wait_ready()
        for i in range(20):
            _post(f"{server.url}/embeddings/", {"sentences": [f"text {i}", "hello world"] * 2})
        with contextlib.suppress(urllib.error.HTTPError):  # a server with no reranker
            _post(f"{server.url}/rerank", {"query": "q", "passages": ["a", "b c"]})
        lines = []
        for pid in process_tree(server.proc.pid):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            role = (
                "engine"
                if "spawn_main" in command and maps_torch(pid)
                else "resource tracker"
                if "resource_tracker" in command
                else "API process or supervisor"
            )
            lines.append(
                f"pid {pid} ({role}): RSS {resident_mb(pid):.0f} MB, "
                f"torch {'imported' if maps_torch(pid) else 'not imported'}"
            )
        return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m app.bench.api_rss", description=__doc__)
    p.add_argument("--tiny", action="store_true", help="tiny random bge-m3 + reranker")
    p.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = p.parse_args(argv)
    env = {"DEVICE": "cpu", "LOG_LEVEL": "warning", "API_WORKERS": "1"}
    env["RATE_LIMIT_REQUESTS_PER_MINUTE"] = "0"
    if args.tiny:
        from app.testing.tiny_models import build_all

        built = build_all(Path(tempfile.gettempdir()) / "smart-embedder-tiny-models")
        env.update(BGE_M3_MODEL=str(built["bge-m3"]), RERANKER_MODEL=str(built["bge-reranker"]))
    for pair in args.env:
        name, _, value = pair.partition("=")
        env[name] = value
    print(", ".join(f"{k}={v}" for k, v in env.items()))
    print("\n".join(report(env)))


if __name__ == "__main__":
    main()
