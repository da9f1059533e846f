"""Out of memory splits the batch (app/engine/oom.py) and a sticky error stops the engine
(app/engine/passes.py): real tiny models with faults injected in their encoders."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from app.engine.child import without_weights
from app.engine.device_errors import DeviceLost
from app.engine.memory_budget import Probe, budget_from_probe
from app.engine.model_hook import load_engine_models
from app.engine.passes import run_pass
from app.models.base import Head
from app.models.catalog import ModelSet
from app.scheduler.queue import ModelQueue
from app.settings import Settings
from app.testing.faults import FaultyModule, fault_environment


def faulty(settings: Settings, monkeypatch: pytest.MonkeyPatch, **plan: object) -> ModelSet:
    for name, value in fault_environment(json.dumps(plan)).items():
        monkeypatch.setenv(name, value)
    return load_engine_models(settings)


def test_an_oversize_batch_is_split_and_an_item_too_large_alone_fails_alone(
    tiny_settings: Settings, tiny_model_set: ModelSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = faulty(tiny_settings, monkeypatch, oom_above_tokens=300, oom_longer_than=200)
    backend, clean = models.backends()[0], tiny_model_set.backends()[0]
    items = backend.tokenize([f"text{i} " + "word " * 89 for i in range(6)], "document")
    items += backend.tokenize(["word " * 250], "document")
    short, long = len(items[0].ids), len(items[-1].ids)
    assert long > 200 and 3 * short <= 300 < 4 * short

    done = run_pass(backend, items, frozenset(Head))
    assert done.oom is not None
    # 7 -> 3 (fits) + 4 -> 2 + 2 (the second holds the long item) -> 1 + 1
    assert done.oom.splits == 3 and done.oom.too_large == [6]
    assert done.oom.failed_tokens == long and done.oom.fitted_tokens == 3 * short
    reference = run_pass(clean, items[:6], frozenset(Head)).results
    for got, want in zip(done.results[:6], reference, strict=True):
        np.testing.assert_allclose(got.dense, want.dense, atol=1e-5)
        np.testing.assert_array_equal(got.sparse.indices, want.sparse.indices)
        np.testing.assert_allclose(got.colbert, want.colbert, atol=1e-5)
    stand_in = done.results[6]
    assert stand_in.dense.shape == reference[0].dense.shape and stand_in.colbert.shape[0] == 0


def test_a_reranker_batch_is_split_too(
    tiny_settings: Settings, tiny_model_set: ModelSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = faulty(tiny_settings, monkeypatch, oom_above_tokens=500, kinds=["cross-encoder"])
    assert models.reranker is not None and tiny_model_set.reranker is not None
    pairs = models.reranker.tokenize_pairs("query", [f"p{i} " + "word " * 60 for i in range(8)])
    done = run_pass(models.reranker, pairs, frozenset())
    assert done.oom is not None and done.oom.splits >= 1 and not done.oom.too_large
    want = run_pass(tiny_model_set.reranker, pairs, frozenset()).results
    np.testing.assert_allclose(done.results, want, atol=1e-5)


def test_a_sticky_error_raises_device_lost(
    tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = faulty(tiny_settings, monkeypatch, sticky_longer_than=50)
    backend = models.backends()[0]
    assert run_pass(backend, backend.tokenize(["short"], "document"), frozenset(Head)).results
    with pytest.raises(DeviceLost, match="illegal memory access"):
        run_pass(backend, backend.tokenize(["word " * 80], "document"), frozenset(Head))


def test_the_fault_wrapper_stays_in_the_engine(
    tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = faulty(tiny_settings, monkeypatch, oom_above_tokens=10)
    backend = models.backends()[0]
    assert isinstance(backend.encoder, FaultyModule)  # type: ignore[attr-defined]
    sent = pickle.loads(pickle.dumps(without_weights(models)))
    assert not hasattr(sent.backends()[0], "encoder")


@pytest.mark.parametrize(
    ("budget", "failed", "fitted", "expected"),
    [
        (8192, 1488, 744, 744),  # halves that ran
        (8192, 506, 3, 253),  # a long item failed alone beside a tiny one: half of it
        (8192, 1000, 0, 500),  # nothing ran
        (300, 1000, 500, 300),  # already below: unchanged
    ],
)
def test_the_budget_only_goes_down(budget: int, failed: int, fitted: int, expected: int) -> None:
    queue = ModelQueue("m", "embed", 0, max_tokens=budget, max_items=64)
    assert queue.lower_budget(failed, fitted) == (expected != budget)
    assert queue.max_tokens == expected


def test_a_budget_from_a_probe() -> None:
    probe = Probe(rows=2, length=8192, peak_bytes=2 * 8192 * 100_000)  # 100 kB a token
    assert budget_from_probe(probe, 10**10, headroom=0.2, floor=8192) == 80_000
    assert budget_from_probe(probe, 10**8, headroom=0.2, floor=8192) == 8192  # one long item
    assert budget_from_probe(probe, 10**14, headroom=0.0, floor=1) == 1_048_576
