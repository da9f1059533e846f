"""The dtype choice (app/models/precision.py), for the GPUs this project may meet, on a CPU."""

from __future__ import annotations

import pytest
import torch

from app.models.precision import choose_dtype, device_capability, run_in_float32
from app.models.runtime import resolve_dtype

T4, V100, A100, H100 = (7, 5), (7, 0), (8, 0), (9, 0)


@pytest.mark.parametrize(
    ("capability", "kind", "expected"),
    [
        (T4, "sentence-transformers", "float16"),  # bf16 only emulated there: slow
        (V100, "qwen3-embedding", "float16"),
        (A100, "sentence-transformers", "bfloat16"),
        (H100, "qwen3-reranker", "bfloat16"),
        (H100, "bge-m3", "float16"),  # FlagEmbedding's reference precision
        (A100, "cross-encoder", "float16"),
        (T4, "bge-m3", "float16"),
        (None, "sentence-transformers", "float16"),  # capability unknown: never bf16
    ],
)
def test_auto_on_cuda(capability: tuple[int, int] | None, kind: str, expected: str) -> None:
    assert choose_dtype("auto", "cuda", capability, kind) == expected


def test_a_cpu_runs_float32_and_a_setting_wins() -> None:
    assert choose_dtype("auto", "cpu", None, "bge-m3") == "float32"
    assert choose_dtype("bfloat16", "cuda", T4, "bge-m3") == "bfloat16"
    assert choose_dtype("float32", "cuda", H100, "sentence-transformers") == "float32"
    assert resolve_dtype("auto", torch.device("cpu"), "bge-m3") is torch.float32
    assert device_capability(torch.device("cpu")) is None


def test_a_head_kept_in_float32_takes_half_inputs() -> None:
    head = torch.nn.Linear(8, 1).to(torch.bfloat16)
    run_in_float32(head)
    out = head(torch.ones(2, 8, dtype=torch.bfloat16))
    assert head.weight.dtype is torch.float32 and out.dtype is torch.float32
