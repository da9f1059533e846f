"""Out of device memory: split the batch instead of failing it.

A batch whose pass raises ``torch.OutOfMemoryError`` is cut in two halves and each is retried
(after ``torch.cuda.empty_cache()`` when CUDA is in use, so the cached blocks of the failed
attempt go back to the driver), recursively, down to single items. A single item that still
does not fit fails alone (``ItemTooLarge``, 507 for its request); every other item gets its
result. The outcome says the smallest padded size that failed and the largest that ran, from
which the scheduler lowers the model's token budget so that the next batches fit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.models.base import ItemEmbedding, SparseVector

log = logging.getLogger("smart_embedder.engine")


@dataclass
class SplitOutcome:
    #: per item, in input order; None where the item did not fit alone
    results: list[Any]
    #: item positions that did not fit even alone
    too_large: list[int] = field(default_factory=list)
    #: padded tokens (longest x count) of the smallest part that ran out of memory (0: none)
    failed_tokens: int = 0
    #: padded tokens of the largest part that ran after a split (0: none did)
    fitted_tokens: int = 0
    #: how many times a part was cut in two
    splits: int = 0


def padded_tokens(payloads: Sequence[Any]) -> int:
    return max((len(p.ids) for p in payloads), default=0) * len(payloads)


def run_splitting(
    run: Callable[[Sequence[Any]], Sequence[Any]],
    payloads: Sequence[Any],
    *,
    on_cuda: bool,
) -> SplitOutcome:
    """``run(part)`` gives one result per item of ``part``; ``torch.OutOfMemoryError`` from it
    splits ``part`` in halves. Any other error propagates."""
    import torch

    outcome = SplitOutcome(results=[None] * len(payloads))

    def attempt(start: int, part: Sequence[Any], after_split: bool) -> None:
        try:
            results = run(part)
        except torch.OutOfMemoryError:
            results = None
        # Handled outside the except block: while it is being handled, the exception's
        # traceback keeps the failed attempt's tensors alive, and empty_cache could free none.
        if results is None:
            retry(start, part)
            return
        if after_split:
            outcome.fitted_tokens = max(outcome.fitted_tokens, padded_tokens(part))
        outcome.results[start : start + len(part)] = list(results)

    def retry(start: int, part: Sequence[Any]) -> None:
        tokens = padded_tokens(part)
        outcome.failed_tokens = min(outcome.failed_tokens or tokens, tokens)
        if on_cuda:
            torch.cuda.empty_cache()
        if len(part) == 1:
            log.warning("one item of %d tokens does not fit in device memory alone", tokens)
            outcome.too_large.append(start)
            return
        outcome.splits += 1
        half = len(part) // 2
        log.warning(
            "out of device memory on %d items (%d padded tokens): retrying as %d + %d",
            len(part),
            tokens,
            half,
            len(part) - half,
        )
        attempt(start, part[:half], True)
        attempt(start + half, part[half:], True)

    attempt(0, payloads, False)
    return outcome


def fill_gaps(results: list[Any], *, pairs: bool) -> list[Any] | np.ndarray:
    """The results with a stand-in where an item did not fit (its request fails, so it is
    never read): NaN for a score, an empty embedding shaped like its neighbours' (the wire
    packs a batch's heads together)."""
    if pairs:
        return np.asarray([np.nan if r is None else r for r in results], dtype=np.float32)
    template = next((r for r in results if r is not None), None)
    if template is None:
        return [ItemEmbedding() for _ in results]
    # a late-chunking item's vectors are its chunks': the stand-in is shaped like one of them
    leaf = next((leaf for r in results if r is not None for leaf in r.leaves()), None)
    if leaf is None:
        return [ItemEmbedding() if r is None else r for r in results]
    return [_empty_like(leaf) if r is None else r for r in results]


def _empty_like(template: ItemEmbedding) -> ItemEmbedding:
    return ItemEmbedding(
        dense=None if template.dense is None else np.zeros_like(template.dense),
        sparse=None
        if template.sparse is None
        else SparseVector(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)),
        colbert=None if template.colbert is None else template.colbert[:0],
    )
