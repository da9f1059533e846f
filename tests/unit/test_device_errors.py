"""Which errors leave the device unusable (app/engine/device_errors.py): the CUDA runtime's
own messages, as torch raises them."""

from __future__ import annotations

import pytest
import torch

from app.engine.device_errors import is_sticky
from app.testing.faults import ILLEGAL_ACCESS

STICKY = [
    ILLEGAL_ACCESS,
    "CUDA error: device-side assert triggered\nCompile with `TORCH_USE_CUDA_DSA` to enable "
    "device-side assertions.",
    "CUDA error: unspecified launch failure",
    "CUDA error: uncorrectable ECC error encountered",
    "CUDA error: misaligned address",
    "CUDA error: an illegal instruction was encountered",
    "CUDA error: unknown error",
    "CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasGemmEx( handle, ...)`",
]
NOT_STICKY = [
    "CUDA error: out of memory",  # as RuntimeError text: still not a corrupt context marker
    "Expected all tensors to be on the same device, but found at least two devices",
    "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
    "CUDA error: invalid device ordinal",
]


@pytest.mark.parametrize("message", STICKY)
def test_sticky_cuda_errors(message: str) -> None:
    assert is_sticky(RuntimeError(message))


@pytest.mark.parametrize("message", NOT_STICKY)
def test_recoverable_errors(message: str) -> None:
    assert not is_sticky(RuntimeError(message))


def test_out_of_memory_and_other_types_are_not_sticky() -> None:
    assert not is_sticky(torch.OutOfMemoryError("CUDA out of memory. illegal memory access"))
    assert not is_sticky(ValueError(ILLEGAL_ACCESS))
    if hasattr(torch, "AcceleratorError"):  # torch >= 2.8 raises CUDA errors as this
        assert issubclass(torch.AcceleratorError, RuntimeError)
