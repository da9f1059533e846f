"""``python -m app.bench.colbert``: what ColBERT token pooling and compact types cost and save.

    python -m app.bench.colbert quality             # MaxSim recall and MRR (MiniLM stand-in)
    python -m app.bench.colbert cost [--runs 3]     # response bytes, time, Qdrant storage
    python -m app.bench.colbert placement           # pooling in the API process or the engine

``quality`` needs the offline extra (the real MiniLM weights); ``cost`` the test extra (the
stand-in's tokenizer and qdrant-client). See app/bench/colbert_quality.py and
app/bench/colbert_cost.py for what each measures; ``placement`` needs a patch applied by hand
(app/bench/colbert_placement.py says which).
"""

from __future__ import annotations

import argparse
import time


def quality() -> None:
    from app.bench.colbert_quality import run, table, token_vectors
    from app.models.base import Head
    from app.models.loading import load_models
    from app.settings import Settings
    from app.testing.tiny_models import minilm_dir

    started = time.perf_counter()
    settings = Settings(
        bge_m3_model="",
        dense_embedding_model=str(minilm_dir()),
        reranker_model="",
        device="cpu",
        warmup=False,
    )
    backend = load_models(settings).by_head[Head.DENSE]
    results = run(lambda texts, kind: token_vectors(backend, texts, kind))
    print(
        "stand-in multi-vector model: all-MiniLM-L6-v2's token vectors after [CLS], "
        f"L2-normalised (384-d); 60 queries against 300 passages "
        f"({time.perf_counter() - started:.0f}s)"
    )
    for query_set, rows in results.items():
        print(f"\nqueries {query_set}:\n{table(rows)}")


def cost(runs: int, requests: int) -> None:
    import httpx

    from app.bench.colbert_cost import (
        bench_model,
        measure_responses,
        passages_of,
        response_table,
        storage,
        storage_table,
    )
    from app.testing.server import ServerProcess

    model = bench_model()
    texts = passages_of(model, 10)
    env = {
        "BGE_M3_MODEL": str(model),
        "RERANKER_MODEL": "",
        "DEVICE": "cpu",
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
    }
    with ServerProcess(env) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        server.wait_ready(600)
        found = measure_responses(http, texts[0], requests, runs)
        print(
            f"one {len(texts[0])}-character passage of 300 tokens, 1024-wide ColBERT rows; "
            f"{runs} runs of {requests} requests per setting, one after another"
        )
        print(response_table(found))
        print(f"\nQdrant (qdrant-client local mode), {len(texts)} passages of 300 tokens:")
        print(storage_table(storage(http, texts)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.bench.colbert", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("quality", help="MaxSim quality per pool factor and type")
    costs = sub.add_parser("cost", help="response bytes, time and Qdrant storage per setting")
    costs.add_argument("--runs", type=int, default=3)
    costs.add_argument("--requests", type=int, default=5, help="requests per setting and run")
    where = sub.add_parser("placement", help="pooling in the API process or the engine")
    where.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.what == "quality":
        quality()
    elif args.what == "cost":
        cost(args.runs, args.requests)
    else:
        from app.bench.colbert_placement import placement

        placement(args.runs)


if __name__ == "__main__":
    main()
