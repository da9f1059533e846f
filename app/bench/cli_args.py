"""The command line of ``python -m app.bench``: its options and the checks between them."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.bench.sweep import parse_concurrencies
from app.bench.workload import SCENARIOS, WORD_RANGES, Scenario
from app.testing.sim_device import PROFILES, parse_cost


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "mixed"],
        default="embed_dense",
        help="mixed: live queries beside an indexer's flood, priorities on and off "
        "(app/bench/mixed.py; --duration seconds per phase, --runs)",
    )
    p.add_argument("--runs", type=int, default=1, help="with --scenario mixed: runs to make")
    p.add_argument(
        "--query-rate",
        type=float,
        default=0.0,
        help="with --scenario mixed: queries a second, open loop (Poisson, each timed from "
        "when it was due); 0: 2 connections, each sending as soon as it is answered",
    )
    p.add_argument(
        "--modes",
        default="on,off",
        help="with --scenario mixed: priorities on, off, or both (on,off)",
    )
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=4, help="texts (or passages) per request")
    p.add_argument("--warmup", type=int, default=16, help="requests sent before timing")
    p.add_argument("--texts", choices=list(WORD_RANGES), default="mixed", help="text lengths")
    p.add_argument(
        "--repeat-share",
        type=float,
        default=0.0,
        help="share of texts that repeat an earlier request's (0: all distinct; for "
        "measuring EMBED_CACHE_MB, e.g. 0.3 with --env EMBED_CACHE_MB=64)",
    )
    p.add_argument(
        "--client",
        choices=["aiohttp", "wrk"],
        default="aiohttp",
        help="load generator: aiohttp (--requests of them) or wrk (for --duration seconds)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load, with wrk; with --scenario mixed, of each phase",
    )
    p.add_argument("--url", help="benchmark this running server instead of starting one")
    p.add_argument(
        "--pid",
        type=int,
        help="with --url: the server's process, to read its CPU (and its engine's)",
    )
    models = p.add_argument_group("models (when the benchmark starts the server)")
    models.add_argument("--preset", choices=["default", "offline"])
    models.add_argument("--tiny", action="store_true", help="tiny random bge-m3 + reranker")
    models.add_argument(
        "--fast-device",
        action="store_true",
        help="the fast-device case: --tiny with --texts short",
    )
    models.add_argument("--bge-m3-model")
    models.add_argument("--dense-model")
    models.add_argument("--sparse-model")
    models.add_argument("--reranker-model")
    models.add_argument(
        "--device", help="DEVICE for the server and the raw passes: auto, cpu, cuda[:N] (auto)"
    )
    models.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for it")
    models.add_argument(
        "--sim-device",
        type=_sim_device,
        metavar="A_MS,B_US|PROFILE",
        help="replace each forward pass with a wait of A ms + B us per padded token, one pass "
        "at a time, that costs no CPU (app/testing/sim_device.py; a profile: "
        f"{', '.join(PROFILES)}); every run reports the device's busy fraction. Figures "
        "about the serving layer only, never about a model",
    )
    p.add_argument("--raw", action="store_true", help="also time raw forward passes")
    p.add_argument(
        "--floor",
        action="store_true",
        help="embed_dense with bge-m3 (--tiny, --fast-device or --bge-m3-model): also run the "
        "floor of the stack (app/bench/floor_app.py: Litestar + uvicorn + msgspec, the model's "
        "tokenizer, no model) under the same load and one short text at c=1, and print ours / "
        "floor for the API process's CPU per request and the c=1 p50 difference",
    )
    p.add_argument(
        "--compare-unbatched",
        action="store_true",
        help="also run a server with CROSS_REQUEST_BATCHING=false (one request per pass)",
    )
    p.add_argument("--output", type=Path, help="append the results to this markdown file")
    sweep = p.add_argument_group("sweep (the same load at several concurrencies)")
    sweep.add_argument(
        "--sweep",
        type=_concurrencies,
        metavar="C1,C2,...",
        help="run each of --scenarios at each of these concurrencies (--concurrency is ignored)",
    )
    sweep.add_argument(
        "--scenarios",
        type=_scenarios,
        default=list(SCENARIOS),
        metavar="S1,S2,...",
        help=f"with --sweep: the scenarios, of {', '.join(SCENARIOS)} (default: all)",
    )
    sweep.add_argument(
        "--plot",
        type=Path,
        metavar="PNG",
        help="with --sweep: draw throughput and p99 against concurrency, server and raw "
        "ceiling, into this PNG (its figures beside it, as .json); with --soak: RSS against "
        "time; needs matplotlib",
    )
    soak = p.add_argument_group("soak (memory over a long run, app/bench/soak.py)")
    soak.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="run a fixed mixed workload (embeddings, reranks, long texts) this long, sampling "
        "every server process's RSS; report its growth over the last third and the allocator",
    )
    soak.add_argument("--soak-interval", type=float, default=60.0, help="seconds between samples")
    soak.add_argument(
        "--soak-max-words", type=int, default=128, help="longest of the mixed texts, in words"
    )
    soak.add_argument(
        "--soak-long-words",
        type=int,
        default=400,
        help="longest of the long texts (one in ten requests), in words (~1.3 tokens each)",
    )
    p.add_argument(
        "--full-size-bge-m3",
        type=Path,
        metavar="DIR",
        help="build bge-m3 at full size with random weights into DIR (2.3 GB) and exit; serve "
        "it with --bge-m3-model DIR",
    )
    args = p.parse_args(argv)
    if args.plot is not None and args.sweep is None and args.soak is None:
        p.error("--plot draws a sweep or a soak: give --sweep or --soak too")
    if args.floor and (args.scenario != "embed_dense" or args.sweep or args.url):
        p.error("--floor compares one embed_dense run of a server it starts: no --sweep, --url")
    if args.floor and not (args.tiny or args.fast_device or args.bge_m3_model):
        p.error("--floor needs bge-m3's tokenizer: give --tiny, --fast-device or --bge-m3-model")
    return args


def _concurrencies(text: str) -> list[int]:
    try:
        return parse_concurrencies(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def _sim_device(text: str) -> str:
    try:
        parse_cost(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _scenarios(text: str) -> list[Scenario]:
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario {unknown[0]!r}")
    return [name for name in SCENARIOS if name in names]
