"""How big and how slow JSON is against MessagePack for embedding responses (SPEC §1.2).

    python -m app.bench.payload [--texts 32] [--tokens 256] [--dim 1024] [--repeat 7]

The response bodies are the native ``/embeddings/`` structs, filled with seeded random unit
vectors of bge-m3's real shape (1024-d; a ColBERT row per token after CLS), and encoded with
the same msgspec encoders the server uses. Sizes depend only on the shape and the float
values, so no model is needed; times are the median of ``--repeat`` runs on this machine.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import numpy as np

from app.api.native.schemas import EmbeddingItem, EmbeddingResponse, Embeddings, SparseIndices

_json = msgspec.json.Encoder()
_msgpack = msgspec.msgpack.Encoder()


@dataclass
class Measurement:
    case: str
    encoding: str
    size_bytes: int
    encode_ms: float
    decode_ms: float


def unit_rows(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    normalized: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalized


def build_response(
    texts: int, tokens: int, dim: int, *, with_dense_sparse: bool, seed: int = 0
) -> EmbeddingResponse:
    """A response as the route builds it: numpy arrays turned into lists."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(texts):
        embeddings = Embeddings(colbert=unit_rows(rng, tokens - 1, dim).tolist())
        if with_dense_sparse:
            embeddings.dense = unit_rows(rng, 1, dim)[0].tolist()
            # a sparse weight per distinct token; about 3/4 of a text's tokens are distinct
            indices = np.sort(rng.choice(250_000, size=tokens * 3 // 4, replace=False))
            values = rng.uniform(0.0, 0.4, size=indices.size).astype(np.float32)
            embeddings.sparse = SparseIndices(indices=indices.tolist(), values=values.tolist())
        items.append(EmbeddingItem(id=i, text=f"text {i}", embeddings=embeddings))
    return EmbeddingResponse(
        data=items,
        model_name="BAAI/bge-m3",
        dense_model_name="BAAI/bge-m3",
        sparse_model_name="BAAI/bge-m3",
        colbert_model_name="BAAI/bge-m3",
        processing_time_ms=0.0,
        warnings=[],
    )


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(case: str, body: EmbeddingResponse, repeat: int) -> list[Measurement]:
    as_json = _json.encode(body)
    as_msgpack = _msgpack.encode(body)
    return [
        Measurement(
            case,
            "JSON (msgspec)",
            len(as_json),
            median_ms(lambda: _json.encode(body), repeat),
            median_ms(lambda: msgspec.json.decode(as_json), repeat),
        ),
        Measurement(
            case,
            "JSON, client uses stdlib json.loads",
            len(as_json),
            float("nan"),
            median_ms(lambda: json.loads(as_json), repeat),
        ),
        Measurement(
            case,
            "MessagePack (msgspec)",
            len(as_msgpack),
            median_ms(lambda: _msgpack.encode(body), repeat),
            median_ms(lambda: msgspec.msgpack.decode(as_msgpack), repeat),
        ),
    ]


def to_list_ms(texts: int, tokens: int, dim: int, repeat: int) -> float:
    """The array → list step every JSON or MessagePack response pays before encoding."""
    rng = np.random.default_rng(1)
    arrays = [unit_rows(rng, tokens - 1, dim) for _ in range(texts)]
    return median_ms(lambda: [a.tolist() for a in arrays], repeat)


def markdown(rows: list[Measurement], texts: int, tokens: int, dim: int, list_ms: float) -> str:
    lines = [
        f"{texts} texts x {tokens} tokens, {dim}-d vectors "
        f"({texts * (tokens - 1)} ColBERT rows, {texts * (tokens - 1) * dim:,} floats)",
        "",
        "| response | encoding | bytes | MiB | vs JSON | server encode ms | client decode ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    json_size: dict[str, int] = {}
    for row in rows:
        json_size.setdefault(row.case, row.size_bytes)
        ratio = row.size_bytes / json_size[row.case]
        encode = "—" if np.isnan(row.encode_ms) else f"{row.encode_ms:.0f}"
        lines.append(
            f"| {row.case} | {row.encoding} | {row.size_bytes:,} | "
            f"{row.size_bytes / 2**20:.1f} | {ratio:.2f} | {encode} | {row.decode_ms:.0f} |"
        )
    lines += [
        "",
        f"Turning the ColBERT arrays into lists (done before either encoding): {list_ms:.0f} ms.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=256, help="tokens per text, CLS included")
    parser.add_argument("--dim", type=int, default=1024, help="bge-m3's ColBERT/dense width")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    rows: list[Measurement] = []
    for case, full in (("ColBERT only", False), ("dense + sparse + ColBERT", True)):
        body = build_response(args.texts, args.tokens, args.dim, with_dense_sparse=full)
        rows += measure(case, body, args.repeat)
    list_ms = to_list_ms(args.texts, args.tokens, args.dim, args.repeat)
    print(markdown(rows, args.texts, args.tokens, args.dim, list_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
