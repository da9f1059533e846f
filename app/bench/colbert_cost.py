"""What pooled and compact ColBERT vectors cost to send and to store (``python -m
app.bench.colbert cost``).

A server runs a **bge-m3-shaped stand-in**: a tiny random XLM-R encoder (the real XLM-R
tokenizer) with a 1024-wide ColBERT head, so that each token's ColBERT row has bge-m3's real
size while the forward pass costs almost nothing (the real model's pass is not measured
here). One passage of exactly 300 tokens (299 ColBERT rows, one per token after CLS) is
asked for at every pool factor and type, in JSON and MessagePack: the response's bytes, the
wall time to its last byte at a client on the same machine, and the server's own
``processing_time_ms``.

Storage: 20 distinct 300-token passages per setting go into qdrant-client's local mode as a
MaxSim multivector with the type's ``datatype`` (float32, float16, uint8; binary as float32
vectors with Qdrant's binary quantization). Local mode accepts every datatype but keeps
float32 whatever it is told (its own source says so), so the bytes per 1,000 passages are
the vectors it holds per passage times 1,000 times the datatype's width, as Qdrant's server
stores them (binary: the quantized bits only; the original vectors stay on disk beside).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np

from app.bench.quality import labelled_set

FACTORS = (1, 2, 3, 4)
TYPES = ("float", "float16", "uint8", "binary")
COLBERT_DIM = 1024
TOKENS = 300
#: bytes per value as Qdrant's server stores a multivector of that datatype
_WIDTH = {"float": 4.0, "float16": 2.0, "uint8": 1.0, "binary": 1 / 8}


def bench_model(root: Path | None = None) -> Path:
    """The stand-in's directory (built once, then reused)."""
    from app.testing.tiny_models import build_bge_m3

    target = (root or Path(tempfile.gettempdir())) / "smart-embedder-colbert-bench-bge-m3"
    return build_bge_m3(target, colbert_dim=COLBERT_DIM)


def passages_of(model_dir: Path, count: int) -> list[str]:
    """``count`` texts of exactly TOKENS tokens each (special tokens included), cut from the
    labelled set's passages run together."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    pool = tokenizer(" ".join(labelled_set().passages), add_special_tokens=False)["input_ids"]
    texts: list[str] = []
    start = 0
    while len(texts) < count:
        keep = TOKENS - 2
        while True:
            text = tokenizer.decode(pool[start : start + keep]).strip()
            length = len(tokenizer(text)["input_ids"])
            if length == TOKENS or keep <= TOKENS - 12:
                break
            keep += TOKENS - length
        if length == TOKENS:
            texts.append(text)
        start += TOKENS
    return texts


@dataclass
class Sample:
    factor: int
    kind: str
    encoding: str
    response_bytes: int
    wall_ms: float
    server_ms: float
    #: the passage's ColBERT vectors after pooling, as the response says
    vectors: int


def setting_body(text: str, factor: int, kind: str) -> dict[str, Any]:
    return {
        "sentences": [text],
        "return_dense": False,
        "return_sparse": False,
        "colbert_pool_factor": factor,
        "colbert_type": kind,
    }


def sample(http: httpx.Client, text: str, factor: int, kind: str, encoding: str) -> Sample:
    headers = {"accept": "application/msgpack"} if encoding == "msgpack" else {}
    started = time.perf_counter()
    r = http.post("/embeddings/", json=setting_body(text, factor, kind), headers=headers)
    wall = (time.perf_counter() - started) * 1000
    r.raise_for_status()
    decoder = msgspec.msgpack.decode if encoding == "msgpack" else msgspec.json.decode
    body = decoder(r.content)
    (item,) = body["data"]
    vectors = item["colbert_info"]["vectors_after_pooling"] if "colbert_info" in item else -1
    return Sample(factor, kind, encoding, len(r.content), wall, body["processing_time_ms"], vectors)


def settings() -> Iterator[tuple[int, str]]:
    for factor in FACTORS:
        for kind in TYPES:
            yield factor, kind


def measure_responses(
    http: httpx.Client, text: str, requests: int, runs: int
) -> dict[tuple[int, str, str], list[list[Sample]]]:
    """Per (factor, type, encoding): ``runs`` lists of ``requests`` samples; the runs go
    round every setting in turn, so that a busy moment of the machine touches them alike."""
    found: dict[tuple[int, str, str], list[list[Sample]]] = {}
    for _ in range(runs):
        for factor, kind in settings():
            for encoding in ("json", "msgpack"):
                sample(http, text, factor, kind, encoding)  # one not counted
                found.setdefault((factor, kind, encoding), []).append(
                    [sample(http, text, factor, kind, encoding) for _ in range(requests)]
                )
    return found


def response_table(found: dict[tuple[int, str, str], list[list[Sample]]]) -> str:
    lines = [
        "| pool factor | type | vectors | JSON bytes | MessagePack bytes | JSON ms (median "
        "of runs, spread) | MessagePack ms | server ms (JSON) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for factor, kind in settings():
        json_runs, msgpack_runs = found[(factor, kind, "json")], found[(factor, kind, "msgpack")]

        def medians(runs: list[list[Sample]], field: str) -> list[float]:
            return [statistics.median(getattr(s, field) for s in run) for run in runs]

        def cell(values: list[float]) -> str:
            return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"

        vectors = json_runs[0][0].vectors
        lines.append(
            f"| {factor} | {kind} | {vectors if vectors >= 0 else TOKENS - 1} | "
            f"{json_runs[0][0].response_bytes:,} | "
            f"{msgpack_runs[0][0].response_bytes:,} | {cell(medians(json_runs, 'wall_ms'))} | "
            f"{cell(medians(msgpack_runs, 'wall_ms'))} | "
            f"{cell(medians(json_runs, 'server_ms'))} |"
        )
    return "\n".join(lines)


def storage(http: httpx.Client, texts: list[str]) -> list[tuple[int, str, float, float]]:
    """Per setting: vectors per passage as qdrant-client's local mode holds them, and the
    bytes of 1,000 such passages in the setting's datatype."""
    from qdrant_client import QdrantClient, models

    datatypes = {
        "float": models.Datatype.FLOAT32,
        "float16": models.Datatype.FLOAT16,
        "uint8": models.Datatype.UINT8,
        "binary": models.Datatype.FLOAT32,
    }
    out = []
    for factor, kind in settings():
        r = http.post("/embeddings/", json={**setting_body("", factor, kind), "sentences": texts})
        r.raise_for_status()
        items = r.json()["data"]
        qdrant = QdrantClient(":memory:")
        binary = models.BinaryQuantization(binary=models.BinaryQuantizationConfig())
        qdrant.create_collection(
            "docs",
            vectors_config={
                "colbert": models.VectorParams(
                    size=COLBERT_DIM,
                    distance=models.Distance.DOT,
                    datatype=datatypes[kind],
                    multivector_config=models.MultiVectorConfig(
                        comparator=models.MultiVectorComparator.MAX_SIM
                    ),
                    quantization_config=binary if kind == "binary" else None,
                )
            },
        )
        # binary rows are packed bits: Qdrant takes float vectors and quantizes them itself
        floats = kind == "binary"
        qdrant.upsert(
            "docs",
            points=[
                models.PointStruct(
                    id=i,
                    vector={
                        "colbert": _unpacked(item["embeddings"]["colbert"])
                        if floats
                        else item["embeddings"]["colbert"]
                    },
                )
                for i, item in enumerate(items)
            ],
        )
        held = qdrant.retrieve("docs", ids=list(range(len(items))), with_vectors=True)
        per_passage = float(np.mean([len(_colbert_of(p.vector)) for p in held]))
        out.append((factor, kind, per_passage, per_passage * 1000 * COLBERT_DIM * _WIDTH[kind]))
        qdrant.close()
    return out


def _unpacked(rows: list[list[int]]) -> list[list[float]]:
    """Packed sign bits as ±1 floats (what Qdrant's binary quantization keeps of them)."""
    bits = np.unpackbits(np.asarray(rows, dtype=np.uint8), axis=1)
    signs: list[list[float]] = np.where(bits > 0, 1.0, -1.0).tolist()
    return signs


def _colbert_of(vector: Any) -> list[Any]:
    """A retrieved point's ColBERT rows (its named vectors are a dict)."""
    rows: list[Any] = vector["colbert"]
    return rows


def storage_table(rows: list[tuple[int, str, float, float]]) -> str:
    lines = [
        "| pool factor | type (Qdrant datatype) | vectors / passage in local mode | "
        "bytes per 1,000 passages |",
        "|---:|---|---:|---:|",
    ]
    names = {
        "float": "float32",
        "float16": "float16",
        "uint8": "uint8",
        "binary": "float32 + binary quantization: the bits",
    }
    for factor, kind, per_passage, total in rows:
        lines.append(f"| {factor} | {names[kind]} | {per_passage:.1f} | {total / 1e6:,.1f} MB |")
    return "\n".join(lines)
