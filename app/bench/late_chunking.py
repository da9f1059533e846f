"""``python -m app.bench.late_chunking``: naive against late chunking on long documents.

The 30 documents of app/bench/late_chunking_set.py (300 to 500 MiniLM tokens each; later
passages refer back to their subject by pronoun or short name) are sent to a server with
``chunking`` at two chunk sizes, once with ``late: false`` (each chunk embedded alone) and once
with ``late: true``; by default the server is ``serve --preset offline``, started here (real
all-MiniLM-L6-v2 weights: mean-pooled, 512 positions, so a whole document fits one pass).

Quality: each query names its document's subject and asks for a fact a later sentence holds.
Queries are embedded the way the chunks are (one chunk of themselves) and searched against
every chunk of every document by cosine; a query is found at k when one of the k best chunks
overlaps its answer sentence (``start``/``end`` offsets). Prints recall@1 and recall@5, and
how often the best chunk is at least one of the query's own document.

Throughput: the documents sent one per request, ``--concurrency`` at a time, each way in
turn, ``--runs`` times: documents embedded per second, the median and the spread.

Examples:
  python -m app.bench.late_chunking                       # starts the offline preset here
  python -m app.bench.late_chunking --url http://127.0.0.1:8000 --sizes 64 128
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.bench.late_chunking_set import DOCUMENTS, LongDocument

CUTOFFS = (1, 5)


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/embeddings/",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def chunked(url: str, text: str, max_tokens: int | None, late: bool) -> list[dict[str, Any]]:
    chunking: dict[str, Any] = {"late": late}
    if max_tokens is not None:
        chunking["max_tokens"] = max_tokens
    body = {"sentences": [text], "return_dense": True, "return_sparse": False}
    answer = post(url, {**body, "return_colbert": False, "chunking": chunking})
    chunks: list[dict[str, Any]] = answer["data"][0]["chunks"]
    return chunks


@dataclass(frozen=True)
class Recall:
    max_tokens: int
    late: bool
    chunks: int
    at: dict[int, float]
    #: the best chunk is one of the query's document (whichever of its chunks)
    document_at_1: float


def recall(url: str, documents: Sequence[LongDocument], max_tokens: int, late: bool) -> Recall:
    with ThreadPoolExecutor(4) as pool:
        per_document = list(pool.map(lambda d: chunked(url, d.text, max_tokens, late), documents))
    vectors, owners, spans = [], [], []
    for number, chunks in enumerate(per_document):
        for chunk in chunks:
            vectors.append(chunk["embeddings"]["dense"])
            owners.append(number)
            spans.append((chunk["start"], chunk["end"]))
    # queries pooled as the chunks are: one chunk of themselves, whatever the mode
    queries = [chunked(url, d.query, None, True)[0]["embeddings"]["dense"] for d in documents]
    scores = _unit(np.asarray(queries)) @ _unit(np.asarray(vectors)).T
    found = {k: 0 for k in CUTOFFS}
    own_document = 0
    for number, (document, row) in enumerate(zip(documents, scores, strict=True)):
        start = document.text.index(document.answer)
        end = start + len(document.answer)
        ranked = np.argsort(-row, kind="stable")[: max(CUTOFFS)]
        hits = [owners[c] == number and spans[c][0] < end and spans[c][1] > start for c in ranked]
        for k in CUTOFFS:
            found[k] += any(hits[:k])
        own_document += owners[ranked[0]] == number
    n = len(documents)
    at = {k: found[k] / n for k in CUTOFFS}
    return Recall(max_tokens, late, len(vectors), at, own_document / n)


def throughput(
    url: str, documents: Sequence[LongDocument], max_tokens: int, late: bool, concurrency: int
) -> float:
    """Documents per second, each sent alone, ``concurrency`` requests at a time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda d: chunked(url, d.text, max_tokens, late), documents))
    return len(documents) / (time.perf_counter() - started)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def run(url: str, sizes: Sequence[int], runs: int, concurrency: int) -> None:
    print(f"{len(DOCUMENTS)} documents, {url}\n")
    print("| max_tokens | chunking | chunks | recall@1 | recall@5 | its document first |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        for late in (False, True):
            r = recall(url, DOCUMENTS, size, late)
            mode = "late" if late else "naive"
            print(
                f"| {size} | {mode} | {r.chunks} | {r.at[1]:.2f} | {r.at[5]:.2f} "
                f"| {r.document_at_1:.2f} |"
            )
    if runs < 1:
        return
    print(f"\n| max_tokens | chunking | documents/s (median of {runs}) | spread (min to max) |")
    print("|---:|---|---:|---|")
    for size in sizes:
        rates: dict[bool, list[float]] = {False: [], True: []}
        throughput(url, DOCUMENTS, size, True, concurrency)  # warm-up, not counted
        for _ in range(runs):  # interleaved, so that both ways see the same machine
            for late in (False, True):
                rates[late].append(throughput(url, DOCUMENTS, size, late, concurrency))
        for late in (False, True):
            values = rates[late]
            print(
                f"| {size} | {'late' if late else 'naive'} | {statistics.median(values):.1f} "
                f"| {min(values):.1f} to {max(values):.1f} |"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.bench.late_chunking", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--url", help="a running server; default: start the offline preset")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="max_tokens")
    parser.add_argument(
        "--runs", type=int, default=3, help="throughput runs each way (0: recall only)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    args = parser.parse_args(argv)
    if args.url:
        run(args.url, args.sizes, args.runs, args.concurrency)
        return
    from app.testing.server import ServerProcess

    server = ServerProcess({"RATE_LIMIT_REQUESTS_PER_MINUTE": "0"}, args=("--preset", "offline"))
    try:
        server.wait_ready()
        run(server.url, args.sizes, args.runs, args.concurrency)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
