"""``python -m app.bench.quality``: what quantized vectors cost in retrieval quality.

The labelled set of app/bench/quality_set.py (60 queries, 300 passages; each query has one
passage that answers it, and is asked twice: as written, and paraphrased in other words) is
embedded once by the dense model (default: the offline preset's
real MiniLM weights, ``sentence-transformers/all-MiniLM-L6-v2``), and every query is searched
against all 300 passages with each vector type the server returns, quantized by the server's
own code (app.models.quantization, int8/uint8 ranges from the shipped calibration set):

- float: cosine similarity (dot product of unit vectors), the reference;
- int8, uint8: dot product of the integer vectors;
- binary: Hamming distance of the packed sign bits (ubinary ranks the same);
- binary + rescore: the binary top 40, reordered by the float query against each passage's
  float vector (``float docs``: what keeping floats beside the index gives) or its sign
  bits as ±1 (``±1 bits``: nothing but the binary index kept).

Prints recall@1, recall@10 and MRR@10 per type, with the bytes kept per passage (the index's
vector, and for the float rescore the float vector beside it).

Examples:
  python -m app.bench.quality                  # MiniLM, from the offline extra
  python -m app.bench.quality --model BAAI/bge-m3
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from app.bench.quality_set import GROUPS, PARAPHRASES
from app.models.base import EmbeddingBackend, Head, InputType
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.quantization import Calibration, quantize, unit_rows

RESCORE_TOP = 40
CUTOFF = 10


@dataclass(frozen=True)
class Corpus:
    queries: list[str]
    passages: list[str]
    #: the index of the passage that answers each query
    answers: list[int]


def labelled_set(paraphrased: bool = False) -> Corpus:
    """The 60 queries as written, or (``paraphrased``) the same questions in other words."""
    queries: list[str] = []
    passages: list[str] = []
    answers: list[int] = []
    for group, paraphrase in zip(GROUPS, PARAPHRASES, strict=True):
        queries.append(paraphrase if paraphrased else group.query)
        answers.append(len(passages))
        passages += [group.answer, *group.others]
    return Corpus(queries, passages, answers)


@dataclass(frozen=True)
class Quality:
    name: str
    bytes_per_vector: int
    recall_at_1: float
    recall_at_10: float
    mrr_at_10: float


def measure(name: str, nbytes: int, rankings: np.ndarray, answers: Sequence[int]) -> Quality:
    """``rankings``: each query's passage indices, best first (at least CUTOFF of them)."""
    ranks = []
    for ranking, answer in zip(rankings, answers, strict=True):
        found = np.flatnonzero(ranking[:CUTOFF] == answer)
        ranks.append(int(found[0]) + 1 if found.size else None)
    n = len(ranks)
    return Quality(
        name=name,
        bytes_per_vector=nbytes,
        recall_at_1=sum(r == 1 for r in ranks) / n,
        recall_at_10=sum(r is not None for r in ranks) / n,
        mrr_at_10=sum(1 / r for r in ranks if r is not None) / n,
    )


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's k best column indices, best first (ties by index, so runs agree)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def hamming(queries: np.ndarray, passages: np.ndarray) -> np.ndarray:
    """Differing bits between every packed query and passage (uint8 rows)."""
    differing = np.bitwise_xor(queries[:, None, :], passages[None, :, :])
    counts: np.ndarray = np.unpackbits(differing, axis=-1).sum(axis=-1)
    return counts


def rescored(
    candidates: np.ndarray, query_floats: np.ndarray, passage_vectors: np.ndarray
) -> np.ndarray:
    """Each query's candidates reordered by its float vector's dot product with theirs."""
    out = np.empty_like(candidates)
    for i, (row, query) in enumerate(zip(candidates, query_floats, strict=True)):
        scores = passage_vectors[row] @ query
        out[i] = row[np.argsort(-scores, kind="stable")]
    return out


def evaluate(
    queries: np.ndarray, passages: np.ndarray, calibration: Calibration, answers: Sequence[int]
) -> list[Quality]:
    """Every type's quality; ``queries`` and ``passages`` are unit rows of float32."""
    width = passages.shape[1]
    results = [measure("float", 4 * width, top(queries @ passages.T, CUTOFF), answers)]
    for kind in ("int8", "uint8"):
        q = quantize(queries, kind, calibration.ranges()).astype(np.int32)
        p = quantize(passages, kind, calibration.ranges()).astype(np.int32)
        results.append(measure(kind, width, top(q @ p.T, CUTOFF), answers))
    q_bits, p_bits = quantize(queries, "ubinary"), quantize(passages, "ubinary")
    distances = -hamming(q_bits, p_bits)
    nbytes = p_bits.shape[1]
    results.append(measure("binary", nbytes, top(distances, CUTOFF), answers))
    candidates = top(distances, RESCORE_TOP)
    signs = np.where(passages > 0, 1.0, -1.0).astype(np.float32)
    results.append(
        measure(
            f"binary, top {RESCORE_TOP} rescored (float docs)",
            nbytes + 4 * width,  # the float vectors are kept beside the index
            rescored(candidates, queries, passages),
            answers,
        )
    )
    results.append(
        measure(
            f"binary, top {RESCORE_TOP} rescored (±1 bits)",
            nbytes,
            rescored(candidates, queries, signs),
            answers,
        )
    )
    return results


Embed = Callable[[Sequence[str], InputType], np.ndarray]


def backend_embedder(backend: EmbeddingBackend, batch_size: int = 32) -> Embed:
    """Unit rows of ``backend``'s dense vectors, as the server tokenizes and runs them."""

    def embed(texts: Sequence[str], input_type: InputType) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), batch_size):
            tokens = backend.tokenize(texts[start : start + batch_size], input_type)
            rows += [item.dense for item in backend.embed(tokens, frozenset({Head.DENSE}))]
        return unit_rows(np.stack([np.asarray(r, dtype=np.float32) for r in rows]))

    return embed


def run(embed: Embed, model: str) -> dict[str, list[Quality]]:
    """Each query set's results: ``written`` (the queries as written) and ``paraphrased``."""
    calibration = Calibration(model=model, vectors=embed(CALIBRATION_TEXTS, "document"))
    corpus = labelled_set()
    passages = embed(corpus.passages, "document")
    results = {}
    for name, paraphrased in (("written", False), ("paraphrased", True)):
        corpus = labelled_set(paraphrased)
        queries = embed(corpus.queries, "query")
        results[name] = evaluate(queries, passages, calibration, corpus.answers)
    return results


def table(results: Sequence[Quality]) -> str:
    reference = results[0]
    lines = [
        "| vectors | bytes / passage | recall@1 | recall@10 | MRR@10 | recall@10 vs float |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.bytes_per_vector:,} | {r.recall_at_1:.3f} | {r.recall_at_10:.3f} "
            f"| {r.mrr_at_10:.3f} | {r.recall_at_10 - reference.recall_at_10:+.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.bench.quality", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model",
        help="a dense model (hub id or directory); default: the offline preset's MiniLM",
    )
    args = parser.parse_args(argv)
    from app.models.loading import load_models
    from app.settings import Settings

    settings = (
        Settings(
            bge_m3_model="",
            dense_embedding_model=args.model,
            reranker_model="",
            device="cpu",
            warmup=False,
        )
        if args.model
        else Settings(preset="offline", device="cpu", warmup=False)
    )
    started = time.perf_counter()
    models = load_models(settings)
    backend = models.by_head[Head.DENSE]
    name = models.name_for(Head.DENSE) or backend.name
    results = run(backend_embedder(backend), name)
    corpus = labelled_set()
    print(
        f"{name}: {len(corpus.queries)} queries (as written, then paraphrased) against "
        f"{len(corpus.passages)} passages, int8/uint8 ranges from {len(CALIBRATION_TEXTS)} "
        f"calibration texts ({time.perf_counter() - started:.1f}s)"
    )
    for query_set, qualities in results.items():
        print(f"\nqueries {query_set}:\n{table(qualities)}")


if __name__ == "__main__":
    main()
