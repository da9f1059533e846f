"""The ColBERT benchmark's scoring (``python -m app.bench.colbert quality``): MaxSim over padded
passages is the plain per-passage sum, and a query that is a passage finds it at every
setting."""

from __future__ import annotations

import numpy as np

from app.bench.colbert_quality import Padded, bucket_centres, evaluate, maxsim, signs
from app.models.quantization import ranges_of, unit_rows


def passages(count: int, dim: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [unit_rows(rng.standard_normal((int(rng.integers(3, 12)), dim))) for _ in range(count)]


def test_maxsim_is_each_query_tokens_best_row_summed() -> None:
    docs, queries = passages(6, 16, seed=1), passages(3, 16, seed=2)
    scores = maxsim(queries, Padded.of(docs))
    expected = [[(q @ d.T).max(axis=1).sum() for d in docs] for q in queries]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_uint8_centres_and_signs_stay_close_to_the_floats() -> None:
    docs = passages(4, 32, seed=3)
    ranges = ranges_of(np.concatenate(docs))
    for d in docs:
        steps = (ranges[1] - ranges[0]) / 255
        assert (np.abs(bucket_centres(d, ranges) - d) <= steps / 2 + 1e-6).all()
        assert set(np.unique(signs(d))) <= {-1.0, 1.0}


def test_a_query_that_is_a_passage_finds_it_at_every_setting() -> None:
    docs = passages(40, 32, seed=4)
    answers = [5, 17, 30]
    queries = [docs[i] for i in answers]
    rows = evaluate(queries, docs, ranges_of(np.concatenate(docs)), answers)
    assert [r.quality.name for r in rows][:4] == [f"float, pool factor {k}" for k in (1, 2, 3, 4)]
    reference = rows[0]
    assert reference.quality.recall_at_1 == 1.0 and reference.bytes_per_passage > 0
    assert all(r.quality.recall_at_10 == 1.0 for r in rows if "raw bytes" not in r.quality.name)
    assert rows[1].vectors_per_passage < reference.vectors_per_passage
