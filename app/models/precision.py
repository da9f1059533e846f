"""Which dtype a model's weights run in: a pure choice from the setting, the device and the
model's kind, so that it can be tested on a CPU with any GPU's capability.

- A CPU runs float32.
- bfloat16 only where the configured device computes it natively: compute capability 8.0
  (Ampere) and later. ``torch.cuda.is_bf16_supported()`` also counts emulation, which is true
  on a T4 or V100, where bfloat16 is many times slower than float16.
- bge-m3 and the bge cross-encoder rerankers run float16 on any GPU, as FlagEmbedding (their
  reference) runs them: their scores and vectors are then the reference's, and close passages
  keep their order.
- A DTYPE setting other than ``auto`` wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

DtypeName = Literal["float32", "float16", "bfloat16"]

#: the first compute capability with native bfloat16 arithmetic (Ampere)
NATIVE_BF16_CAPABILITY = (8, 0)
#: backend kinds whose reference implementation runs them in float16 on a GPU
FP16_REFERENCE_KINDS = frozenset({"bge-m3", "cross-encoder"})


def choose_dtype(
    setting: str,
    device_type: str,
    capability: tuple[int, int] | None,
    kind: str | None = None,
) -> DtypeName:
    """The dtype name for one model: ``setting`` (DTYPE), ``device_type`` ("cpu", "cuda"),
    ``capability`` of the configured device (None off a GPU), ``kind`` of the backend."""
    if setting != "auto":
        return setting  # type: ignore[return-value]
    if device_type != "cuda":
        return "float32"
    if kind in FP16_REFERENCE_KINDS:
        return "float16"
    if capability is not None and capability >= NATIVE_BF16_CAPABILITY:
        return "bfloat16"
    return "float16"


def device_capability(device: torch.device) -> tuple[int, int] | None:
    """The compute capability of ``device`` itself (``cuda:1`` is asked about device 1, not
    the current one); None off a GPU."""
    import torch

    if device.type != "cuda":
        return None
    index = device.index if device.index is not None else torch.cuda.current_device()
    major, minor = torch.cuda.get_device_capability(index)
    return int(major), int(minor)


def torch_dtype(name: str) -> torch.dtype:
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def run_in_float32(module: torch.nn.Module) -> None:
    """Keep ``module`` (a small head: a classifier, a projection) in float32 inside a
    half-precision model: its weights are cast and its floating inputs are cast on the way in,
    so logits come out of float32 arithmetic, not float16's 11-bit mantissa."""
    import torch

    if next(module.parameters()).dtype == torch.float32:
        return
    module.float()

    def _to_float32(_: torch.nn.Module, args: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(
            a.float() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args
        )

    module.register_forward_pre_hook(_to_float32)
