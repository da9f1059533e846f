"""Which errors from a forward pass leave the device unusable.

Most CUDA errors are "sticky": after a device-side assert, an illegal memory access, an ECC
error or a launch failure, the CUDA context is corrupt and every later call on it fails the
same way. Carrying on would answer 500 to every request while the pod still looks Ready, so
such an error stops the engine: the pass thread raises ``DeviceLost``, the engine process
sends ``Fatal`` and exits (code 70, ``EXIT_ENGINE_FATAL``), and the API process turns
not-ready, answers what was in flight with 503 and exits non-zero for Kubernetes to replace
the pod ("Engine death" in docs/architecture.md). An out-of-memory error is not sticky: the
allocator recovers (``app.engine.oom`` splits the batch instead).

torch raises these as ``RuntimeError`` (``torch.AcceleratorError`` from 2.8 on, a subclass)
with the CUDA runtime's own message, so the classifier reads the message.
"""

from __future__ import annotations

#: fragments of the CUDA runtime's (and cuBLAS / cuDNN's) messages for errors that corrupt
#: the context, lower-cased
STICKY_MARKERS = (
    "device-side assert triggered",
    "illegal memory access",
    "an illegal instruction was encountered",
    "misaligned address",
    "unspecified launch failure",
    "uncorrectable ecc error",
    "ecc error encountered",
    "cudaerrorlaunchfailure",
    "cudaerrorillegaladdress",
    "cudaerrorassert",
    "cudaerrorecc",
    "hardware stack error",
    "cuda error: unknown error",
    "gpu is lost",
    "device has fallen off the bus",
    "cublas_status_execution_failed",
    "cudnn_status_execution_failed",
    "cuda error: launch timed out",
    "cuda driver error: a pci bus error",
)


class DeviceLost(BaseException):
    """The device can run nothing more. A ``BaseException`` on purpose: the pass threads fail
    their call on an ``Exception`` and carry on, but stop the engine on anything worse."""


def is_sticky(error: BaseException) -> bool:
    """True for an error after which the CUDA context cannot be used again."""
    if _is_out_of_memory(error):
        return False
    if not isinstance(error, RuntimeError):
        return False
    message = str(error).lower()
    return any(marker in message for marker in STICKY_MARKERS)


def _is_out_of_memory(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.OutOfMemoryError)
