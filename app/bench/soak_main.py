"""``python -m app.bench --soak MINUTES``: start the server (or use ``--url`` / ``--pid``), run
the soak, print and keep its figures."""

from __future__ import annotations

import argparse
import os

from app.bench.report import append_markdown
from app.bench.soak import plot_soak, run_soak


def soak_main(args: argparse.Namespace, env: dict[str, str], models: str) -> int:
    from app.testing.server import ServerProcess

    samples = max(2, round(args.soak * 60 / args.soak_interval) + 1)
    extra = ", ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("MALLOC", "LD_")))
    title = (
        f"soak {args.soak:g} min, c={args.concurrency}, embeddings of 4 mixed texts (4-"
        f"{args.soak_max_words} words) + reranks + 1 in 10 a long text (up to "
        f"{args.soak_long_words} words), models: {models}" + (f", {extra}" if extra else "")
    )

    def progress(sample: object) -> None:
        print(f"sample: {sample}", flush=True)

    if args.url:
        if args.pid is None:
            print("python -m app.bench --soak --url needs --pid (the server's process)")
            return 2
        result = run_soak(
            args.url,
            args.pid,
            samples=samples,
            interval_s=args.soak_interval,
            concurrency=args.concurrency,
            max_words=args.soak_max_words,
            long_words=args.soak_long_words,
            title=title,
            on_sample=progress,
        )
    else:
        with ServerProcess(env) as server:
            server.wait_ready()
            print(f"server {server.url}, pid {server.proc.pid}", flush=True)
            result = run_soak(
                server.url,
                server.proc.pid,
                samples=samples,
                interval_s=args.soak_interval,
                concurrency=args.concurrency,
                max_words=args.soak_max_words,
                long_words=args.soak_long_words,
                title=title,
                on_sample=progress,
            )
    load = os.getloadavg()
    lines = [*result.lines(), f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"]
    print("\n".join(lines))
    if args.output:
        append_markdown(args.output, lines)
    if args.plot is not None:
        plot_soak(result, args.plot)
        result.write_json(args.plot.with_suffix(".json"))
        print(f"wrote {args.plot} and {args.plot.with_suffix('.json')}")
    return 0 if result.errors == 0 else 1
