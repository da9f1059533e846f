"""The retrieval-quality benchmark (``python -m app.bench.quality``): its labelled set, its
metrics on rankings whose answers are known, and a full run on the tiny bge-m3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.bench.quality import (
    CUTOFF,
    RESCORE_TOP,
    backend_embedder,
    evaluate,
    hamming,
    labelled_set,
    main,
    measure,
    rescored,
    run,
    table,
)
from app.bench.quality_set import GROUPS, PARAPHRASES
from app.models.base import Head
from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.catalog import ModelSet
from app.models.quantization import Calibration, unit_rows


def test_the_labelled_set() -> None:
    corpus = labelled_set()
    assert (len(corpus.queries), len(corpus.passages)) == (60, 300)
    paraphrased = labelled_set(paraphrased=True)
    assert paraphrased.queries == list(PARAPHRASES)
    assert (paraphrased.passages, paraphrased.answers) == (corpus.passages, corpus.answers)
    texts = corpus.queries + paraphrased.queries + corpus.passages
    assert len(set(texts)) == len(texts)  # no text twice
    assert not set(texts) & set(CALIBRATION_TEXTS)  # calibration is not evaluation
    for group, query, answer in zip(GROUPS, corpus.queries, corpus.answers, strict=True):
        assert query == group.query
        assert corpus.passages[answer] == group.answer


def test_measure_counts_ranks_within_the_cutoff() -> None:
    rankings = np.array(
        [
            [7, *range(20, 20 + CUTOFF)],  # answer first
            [20, 21, 7, *range(22, 22 + CUTOFF - 2)],  # third
            [*range(20, 20 + CUTOFF), 7],  # eleventh: a miss at 10
        ]
    )
    quality = measure("x", 4, rankings, [7, 7, 7])
    assert quality.recall_at_1 == 1 / 3
    assert quality.recall_at_10 == 2 / 3
    assert quality.mrr_at_10 == (1 + 1 / 3) / 3


def test_hamming_and_rescoring() -> None:
    queries = np.array([[0b11110000], [0b00000001]], dtype=np.uint8)
    passages = np.array([[0b11110000], [0b11111111], [0b00000000]], dtype=np.uint8)
    np.testing.assert_array_equal(hamming(queries, passages), [[0, 4, 4], [5, 7, 1]])
    candidates = np.array([[0, 1, 2]])
    vectors = np.array([[0.1, 0.0], [0.9, 0.0], [0.5, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(
        rescored(candidates, np.array([[1.0, 0.0]], np.float32), vectors), [[1, 2, 0]]
    )


def test_evaluate_on_vectors_whose_answers_are_nearest() -> None:
    rng = np.random.default_rng(0)
    passages = unit_rows(rng.standard_normal((120, 64)).astype(np.float32))
    answers = list(range(0, 120, 4))
    queries = unit_rows(passages[answers] + 0.05 * rng.standard_normal((30, 64)).astype(np.float32))
    calibration = Calibration(model="m", vectors=passages)
    results = evaluate(queries, passages, calibration, answers)
    names = [r.name for r in results]
    assert names[:4] == ["float", "int8", "uint8", "binary"]
    assert f"binary, top {RESCORE_TOP} rescored (float docs)" in names
    by_name = {r.name: r for r in results}
    assert by_name["float"].recall_at_1 == 1.0
    # the float rescore of the binary top 40 finds every answer the binary search kept
    assert by_name[f"binary, top {RESCORE_TOP} rescored (float docs)"].recall_at_1 == 1.0
    assert [r.bytes_per_vector for r in results] == [256, 64, 64, 8, 8 + 256, 8]
    lines = table(results).splitlines()
    assert len(lines) == 2 + len(results)
    assert lines[2].startswith("| float | 256 | 1.000 |")


def test_a_run_on_the_tiny_model(tiny_model_set: ModelSet) -> None:
    backend = tiny_model_set.by_head[Head.DENSE]
    results = run(backend_embedder(backend), backend.name)
    assert list(results) == ["written", "paraphrased"]
    for quality in (q for qualities in results.values() for q in qualities):
        assert 0.0 <= quality.recall_at_1 <= quality.recall_at_10 <= 1.0
        assert quality.mrr_at_10 <= quality.recall_at_10


def test_the_command_prints_both_tables(tiny_models: dict[str, Path], capsys: Any) -> None:
    main(["--model", str(tiny_models["bge-m3"])])
    out = capsys.readouterr().out
    assert "60 queries (as written, then paraphrased) against 300 passages" in out
    assert out.count("| vectors | bytes / passage |") == 2
    assert out.count("| binary, top 40 rescored (float docs) |") == 2
