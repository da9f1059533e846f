"""The CUDA branches, on a real device (``gpu``-marked: skipped where none is visible).

Run by ``e2e/gpu_check.sh`` on the day a GPU is lent. Tolerances, fp16 (the dtype ``auto``
picks for bge-m3 and the bge reranker) against fp32 on the CPU, on the tiny random models:
dense and ColBERT rows cosine >= 0.999, sparse weights within 2e-2 absolute of theirs (same
token ids above 0.05), reranker logits within 2e-2 and in the same order.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from app.engine.device_memory import read_device_memory
from app.engine.memory_budget import measure_budgets, probe_peak
from app.engine.passes import run_pass
from app.models.base import EmbeddingBackend, Head, RerankBackend
from app.models.catalog import ModelSet
from app.models.loading import load_models
from app.models.precision import choose_dtype, device_capability
from app.models.transfer import to_device, to_host
from app.settings import Settings

pytestmark = pytest.mark.gpu

TEXTS = [
    "what is the capital of France?",
    "Paris is the capital and largest city of France.",
    "word " * 300,
    "a",
]


@pytest.fixture(scope="module")
def cuda_models(tiny_settings: Settings) -> ModelSet:
    return load_models(dataclasses.replace(tiny_settings, device="cuda", dtype="auto"))


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)


def _embedder(models: ModelSet) -> EmbeddingBackend:
    backend = models.backends()[0]
    assert isinstance(backend, EmbeddingBackend)
    return backend


def test_dtype_is_chosen_for_the_configured_device(cuda_models: ModelSet) -> None:
    last = torch.device(f"cuda:{torch.cuda.device_count() - 1}")
    assert device_capability(last) == torch.cuda.get_device_capability(last.index)
    expected = "bfloat16" if torch.cuda.get_device_capability(last.index) >= (8, 0) else "float16"
    assert choose_dtype("auto", "cuda", device_capability(last), "sentence-transformers") == (
        expected
    )
    embedder = _embedder(cuda_models)
    assert embedder.info.dtype == "float16"  # bge-m3, as FlagEmbedding runs it
    assert next(embedder.encoder.parameters()).dtype is torch.float16  # type: ignore[attr-defined]
    assert embedder.sparse_linear.weight.dtype is torch.float32  # type: ignore[attr-defined]
    reranker = cuda_models.reranker
    assert reranker is not None and reranker.info.dtype == "float16"
    assert reranker.model.classifier.out_proj.weight.dtype is torch.float32  # type: ignore[attr-defined]


def test_bge_m3_fp16_heads_match_fp32_on_the_cpu(
    cuda_models: ModelSet, tiny_model_set: ModelSet
) -> None:
    gpu, cpu = _embedder(cuda_models), _embedder(tiny_model_set)
    items = cpu.tokenize(TEXTS, "document")
    got = run_pass(gpu, items, frozenset(Head)).results
    want = run_pass(cpu, items, frozenset(Head)).results
    for g, w in zip(got, want, strict=True):
        assert g.dense.dtype == np.float32
        assert _cosine(g.dense, w.dense).min() >= 0.999
        assert _cosine(g.colbert, w.colbert).min() >= 0.999
        strong = set(w.sparse.indices[w.sparse.values > 0.05].tolist())
        assert strong <= set(g.sparse.indices.tolist())
        g_weights = dict(zip(g.sparse.indices.tolist(), g.sparse.values.tolist(), strict=True))
        for index, weight in zip(w.sparse.indices.tolist(), w.sparse.values.tolist(), strict=True):
            assert abs(g_weights.get(index, 0.0) - weight) <= 2e-2


def test_reranker_fp16_logits_match_fp32_on_the_cpu(
    cuda_models: ModelSet, tiny_model_set: ModelSet
) -> None:
    gpu, cpu = cuda_models.reranker, tiny_model_set.reranker
    assert isinstance(gpu, RerankBackend) and isinstance(cpu, RerankBackend)
    pairs = cpu.tokenize_pairs(TEXTS[0], TEXTS[1:] * 4)
    got = np.asarray(run_pass(gpu, pairs, frozenset()).results)
    want = np.asarray(run_pass(cpu, pairs, frozenset()).results)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=2e-2)
    assert np.argsort(-got[:3]).tolist() == np.argsort(-want[:3]).tolist()


def test_pinned_staging_and_one_copy_back() -> None:
    device = torch.device("cuda")
    array = np.arange(12, dtype=np.int64).reshape(3, 4)
    moved = to_device(array, device)
    assert moved.device.type == "cuda" and moved.tolist() == array.tolist()
    a, b = torch.ones(2, 3, device=device, dtype=torch.float16), torch.zeros(5, device=device)
    host_a, host_b = to_host([a, b])
    assert host_a.shape == (2, 3) and host_a.dtype == np.float32 and host_a.sum() == 6
    assert host_b.shape == (5,)


def test_the_memory_probe_sets_a_budget(cuda_models: ModelSet) -> None:
    embedder = _embedder(cuda_models)
    probe = probe_peak(embedder, torch.device("cuda"))
    assert probe.peak_bytes > 0 and probe.length == embedder.max_length
    budgets = measure_budgets(cuda_models.backends(), torch.device("cuda"), headroom=0.2)
    assert set(budgets) == {0, 1}
    assert all(tokens >= 512 for tokens in budgets.values())
    memory = read_device_memory(torch.device("cuda"))
    assert set(memory) == {"allocated", "reserved", "free", "total"} and memory["total"] > 0


def test_a_real_oversize_batch_is_split(cuda_models: ModelSet) -> None:
    embedder = _embedder(cuda_models)
    device = torch.device("cuda")
    items = embedder.tokenize(["word " * 600] * 64, "document")  # 64 rows of 512
    want = run_pass(embedder, items, frozenset(Head)).results
    one_row = probe_peak(embedder, device)  # 32 rows of 512 at most
    per_row = one_row.peak_bytes / one_row.rows
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(device).total_memory
    allowed = torch.cuda.memory_allocated(device) + 8 * per_row
    torch.cuda.set_per_process_memory_fraction(allowed / total, device)
    try:
        done = run_pass(embedder, items, frozenset(Head))
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, device)
    assert done.oom is not None and done.oom.splits >= 3 and not done.oom.too_large
    for g, w in zip(done.results, want, strict=True):
        assert _cosine(g.dense, w.dense).min() >= 0.9999


def test_a_real_device_side_assert_is_classified_sticky() -> None:
    # In a process of its own: the assert ruins that process's CUDA context for good.
    script = (
        "import torch\n"
        "from app.engine.device_errors import is_sticky\n"
        "x = torch.zeros(4, device='cuda')\n"
        "try:\n"
        "    x[torch.tensor([40], device='cuda')] = 1\n"
        "    torch.cuda.synchronize()\n"
        "except Exception as exc:\n"
        "    print('sticky' if is_sticky(exc) else f'not sticky: {exc}')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.stdout.strip() == "sticky", out.stdout + out.stderr
