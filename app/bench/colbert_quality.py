"""MaxSim retrieval quality of pooled and compact ColBERT vectors (``python -m app.bench.colbert
quality``).

No ColBERT weights can be installed here, so a **stand-in multi-vector model** plays bge-m3's
ColBERT head: the real MiniLM's (``sentence-transformers/all-MiniLM-L6-v2``, the offline
preset's weights) last-layer token vectors, one per token after [CLS] ([SEP] kept, as bge-m3
keeps its ``</s>``), each L2-normalised. It was never trained for late interaction, so its
absolute figures say little about bge-m3's; what each setting costs against its own float
vectors is the point.

The labelled set of app/bench/quality_set.py (60 queries as written and paraphrased, 300
passages) is searched by MaxSim (for each query token its best passage vector, summed):

- float at pool factors 1 to 4, pooled by the server's own code (app.models.token_pooling);
- float16; uint8 (the ranges of the calibration texts' token vectors, as the server takes
  them), scored as bucket centres against the float query, and as raw bytes against the
  query's bytes (what Qdrant's uint8 datatype computes); binary (sign bits, Hamming MaxSim),
  alone and with its top 40 rescored by the float query against the float vectors, or
  against the ±1 bits themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from app.bench.quality import CUTOFF, RESCORE_TOP, Quality, labelled_set, measure, top
from app.models.base import EmbeddingBackend, InputType
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.quantization import quantize, ranges_of, unit_rows
from app.models.runtime import pad_batch
from app.models.token_pooling import pool_tokens

FACTORS = (1, 2, 3, 4)


@torch.inference_mode()
def token_vectors(
    backend: EmbeddingBackend, texts: Sequence[str], input_type: InputType, batch: int = 32
) -> list[np.ndarray]:
    """Each text's unit token vectors after [CLS] (a sentence-transformers backend's encoder)."""
    encoder = backend.encoder  # type: ignore[attr-defined]
    out: list[np.ndarray] = []
    for start in range(0, len(texts), batch):
        tokens = backend.tokenize(texts[start : start + batch], input_type)
        ids, mask = pad_batch([t.ids for t in tokens], backend.tokenizer.pad_id, backend.device)  # type: ignore[attr-defined]
        hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state.float().numpy()
        out += [unit_rows(hidden[row, 1 : len(t.ids)]) for row, t in enumerate(tokens)]
    return out


@dataclass(frozen=True)
class Padded:
    """Passages' rows padded to one array, so that every query is scored in one product."""

    rows: np.ndarray  # (passages, longest, dim)
    valid: np.ndarray  # (passages, longest) bool

    @classmethod
    def of(cls, passages: Sequence[np.ndarray]) -> Padded:
        longest = max(len(p) for p in passages)
        rows = np.zeros((len(passages), longest, passages[0].shape[1]), dtype=np.float32)
        valid = np.zeros((len(passages), longest), dtype=bool)
        for i, p in enumerate(passages):
            rows[i, : len(p)], valid[i, : len(p)] = p, True
        return cls(rows, valid)


def maxsim(queries: Sequence[np.ndarray], passages: Padded) -> np.ndarray:
    """(queries, passages): each query token's best passage row, summed over the tokens."""
    scores = np.empty((len(queries), len(passages.rows)), dtype=np.float64)
    for i, q in enumerate(queries):
        sims = np.einsum("td,pld->ptl", q, passages.rows, optimize=True)
        sims = np.where(passages.valid[:, None, :], sims, -np.inf)
        scores[i] = sims.max(axis=2).sum(axis=1)
    return scores


def rescored(
    candidates: np.ndarray, queries: Sequence[np.ndarray], passages: Sequence[np.ndarray]
) -> np.ndarray:
    """Each query's candidates reordered by float MaxSim against ``passages``."""
    out = np.empty_like(candidates)
    for i, (row, q) in enumerate(zip(candidates, queries, strict=True)):
        scores = [float((q @ passages[j].T).max(axis=1).sum()) for j in row]
        out[i] = row[np.argsort(-np.asarray(scores), kind="stable")]
    return out


def signs(rows: np.ndarray) -> np.ndarray:
    """Sign bits as ±1: their dot product is dim - 2 * Hamming distance."""
    return np.where(rows > 0, 1.0, -1.0).astype(np.float32)


def bucket_centres(rows: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """uint8 rows read back as the centre of each bucket."""
    steps = (ranges[1] - ranges[0]) / 255
    centres: np.ndarray = ranges[0] + (quantize(rows, "uint8", ranges) + 0.5) * steps
    return centres.astype(np.float32)


@dataclass(frozen=True)
class Row:
    quality: Quality
    vectors_per_passage: float
    bytes_per_passage: float


def evaluate(
    queries: Sequence[np.ndarray],
    passages: Sequence[np.ndarray],
    ranges: np.ndarray,
    answers: Sequence[int],
) -> list[Row]:
    dim = passages[0].shape[1]
    rows: list[Row] = []

    def add(name: str, ranking: np.ndarray, docs: Sequence[np.ndarray], width: float) -> None:
        vectors = float(np.mean([len(p) for p in docs]))
        rows.append(Row(measure(name, 0, ranking, answers), vectors, vectors * dim * width))

    pooled = {k: [pool_tokens(p, k) for p in passages] for k in FACTORS}
    for k in FACTORS:
        add(
            f"float, pool factor {k}",
            top(maxsim(queries, Padded.of(pooled[k])), CUTOFF),
            pooled[k],
            4,
        )
    for k in (1, 2):
        halves = [p.astype(np.float16).astype(np.float32) for p in pooled[k]]
        add(
            f"float16, pool factor {k}",
            top(maxsim(queries, Padded.of(halves)), CUTOFF),
            pooled[k],
            2,
        )
    centres = [bucket_centres(p, ranges) for p in passages]
    add("uint8 (bucket centres)", top(maxsim(queries, Padded.of(centres)), CUTOFF), passages, 1)
    as_bytes = [quantize(p, "uint8", ranges).astype(np.float32) for p in passages]
    query_bytes = [quantize(q, "uint8", ranges).astype(np.float32) for q in queries]
    add(
        "uint8 (raw bytes, as Qdrant's uint8)",
        top(maxsim(query_bytes, Padded.of(as_bytes)), CUTOFF),
        passages,
        1,
    )
    bits = [signs(p) for p in passages]
    first = maxsim([signs(q) for q in queries], Padded.of(bits))
    add("binary (Hamming MaxSim)", top(first, CUTOFF), passages, 1 / 8)
    candidates = top(first, RESCORE_TOP)
    add(
        f"binary, top {RESCORE_TOP} rescored (float docs)",
        rescored(candidates, queries, passages),
        passages,
        1 / 8 + 4,
    )
    add(
        f"binary, top {RESCORE_TOP} rescored (±1 bits)",
        rescored(candidates, queries, bits),
        passages,
        1 / 8,
    )
    return rows


Embed = Callable[[Sequence[str], InputType], list[np.ndarray]]


def run(embed: Embed) -> dict[str, list[Row]]:
    """Each query set's rows: ``written`` and ``paraphrased``."""
    ranges = ranges_of(np.concatenate(embed(CALIBRATION_TEXTS, "document")))
    corpus = labelled_set()
    passages = embed(corpus.passages, "document")
    results = {}
    for name, paraphrased in (("written", False), ("paraphrased", True)):
        corpus = labelled_set(paraphrased)
        queries = embed(corpus.queries, "query")
        results[name] = evaluate(queries, passages, ranges, corpus.answers)
    return results


def table(rows: Sequence[Row]) -> str:
    reference = rows[0].quality
    lines = [
        "| ColBERT vectors | vectors / passage | bytes / passage | recall@1 | recall@10 | "
        "MRR@10 | MRR@10 vs float |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        q = row.quality
        lines.append(
            f"| {q.name} | {row.vectors_per_passage:.1f} | {row.bytes_per_passage:,.0f} | "
            f"{q.recall_at_1:.3f} | {q.recall_at_10:.3f} | {q.mrr_at_10:.3f} | "
            f"{q.mrr_at_10 - reference.mrr_at_10:+.3f} |"
        )
    return "\n".join(lines)
