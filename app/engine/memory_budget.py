"""Batch token budgets from measured device memory (CUDA only), next to ``calibrate``'s
measured pass cost.

After the weights are loaded and warmed up, each model runs one probe batch at its longest
length (``PROBE_TOKENS`` padded tokens: a few rows of ``max_length``), and the peak memory
the pass allocated beyond the weights (``torch.cuda.max_memory_allocated``) gives its cost
per padded token. At the longest length that cost is the highest any batch pays (the
attention's batch x length x length terms grow with the length), so a budget of
free memory / cost holds for every shape the batcher cuts. The free memory is what the driver
has free plus what torch's cache holds unused, less ``BATCH_MEMORY_HEADROOM``. Passes never
run side by side on a GPU, so each model may use it all. MAX_BATCH_TOKENS, when set, wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.models.base import EmbeddingBackend, RerankBackend
from app.settings import Settings

if TYPE_CHECKING:
    import torch

log = logging.getLogger("smart_embedder.engine")

#: padded tokens of the probe batch (at the model's longest length, at least one row)
PROBE_TOKENS = 16384
#: the budget is kept within these bounds
MAX_BUDGET_TOKENS = 1_048_576


@dataclass(frozen=True)
class Probe:
    rows: int
    length: int
    #: bytes the pass allocated at its peak beyond what was allocated before it
    peak_bytes: int

    @property
    def tokens(self) -> int:
        return self.rows * self.length


def budget_from_probe(probe: Probe, free_bytes: int, *, headroom: float, floor: int) -> int:
    """Padded tokens that fit in ``free_bytes`` less ``headroom``, at the probe's cost per
    token; never under ``floor`` (one longest item: it runs alone whatever the budget)."""
    per_token = max(1.0, probe.peak_bytes / max(1, probe.tokens))
    usable = free_bytes * (1.0 - headroom)
    return int(min(MAX_BUDGET_TOKENS, max(floor, usable // per_token)))


def start_up_budgets(
    backends: Sequence[EmbeddingBackend | RerankBackend], device: str, settings: Settings
) -> dict[int, int]:
    """The measured budgets on a GPU unless MAX_BATCH_TOKENS is set (empty otherwise)."""
    if not device.startswith("cuda") or settings.max_batch_tokens:
        return {}
    return measure_budgets(backends, torch_device(device), headroom=settings.batch_memory_headroom)


def measure_budgets(
    backends: Sequence[EmbeddingBackend | RerankBackend], device: torch.device, *, headroom: float
) -> dict[int, int]:
    """Model number -> its batch token budget on ``device`` (a CUDA device)."""
    import torch

    budgets: dict[int, int] = {}
    for number, backend in enumerate(backends):
        probe = probe_peak(backend, device)
        torch.cuda.empty_cache()
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        budgets[number] = budget_from_probe(
            probe, int(free + cached), headroom=headroom, floor=backend.max_length
        )
        log.info(
            "model %s: a batch of %d x %d tokens peaked at %.0f MiB beyond the weights; "
            "%.0f MiB free: batch budget %d padded tokens (measured, %.0f%% headroom)",
            backend.name,
            probe.rows,
            probe.length,
            probe.peak_bytes / 2**20,
            (free + cached) / 2**20,
            budgets[number],
            headroom * 100,
        )
    return budgets


def probe_peak(backend: EmbeddingBackend | RerankBackend, device: torch.device) -> Probe:
    """Run the probe batch, halving its rows while it runs out of memory."""
    import torch

    batch = _longest_items(backend, max(1, PROBE_TOKENS // backend.max_length))
    length = max(len(item.ids) for item in batch)
    while True:
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        try:
            _runner(backend)(batch)
            torch.cuda.synchronize(device)
            return Probe(len(batch), length, torch.cuda.max_memory_allocated(device) - before)
        except torch.OutOfMemoryError:
            if len(batch) == 1:
                raise
        # out of the except block, so the failed attempt's tensors can be freed
        torch.cuda.empty_cache()
        batch = batch[: len(batch) // 2]


def _longest_items(backend: EmbeddingBackend | RerankBackend, rows: int) -> list[Any]:
    text = "probe " * backend.max_length  # truncated to the model's limit
    if isinstance(backend, RerankBackend):
        return backend.tokenize_pairs("probe", [text] * rows)
    return backend.tokenize([text] * rows, "document")


def _runner(backend: EmbeddingBackend | RerankBackend) -> Callable[[Sequence[Any]], object]:
    if isinstance(backend, RerankBackend):
        return backend.score
    embedder = backend
    return lambda batch: embedder.embed(batch, embedder.heads)


def torch_device(name: str) -> torch.device:
    import torch

    return torch.device(name)
