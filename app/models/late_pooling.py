"""Late chunking on the engine side: the token states of one pass pooled per chunk.

A text sent with ``spans`` (``TokenizedText.spans``, positions in its ids) gets one vector set
per span instead of its own, so that only the chunks' vectors leave the engine. Mean pooling
here is over the span's own tokens (never the window's special tokens), as Günther et al.
(2024, arXiv:2409.04701) pool a chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from app.models.base import TokenizedText

#: (row of the batch, first position, stop position) of one span
RowSpan = tuple[int, int, int]


def row_spans(
    batch: Sequence[TokenizedText], *, offsets: Sequence[int] | None = None
) -> list[RowSpan]:
    """Every span of the batch, row by row in order. ``offsets``: per row, where its ids start
    in the padded tensor (left padding); None: at 0."""
    out: list[RowSpan] = []
    for row, text in enumerate(batch):
        shift = offsets[row] if offsets is not None else 0
        for start, stop in text.spans or ():
            out.append((row, start + shift, stop + shift))
    return out


def span_means(hidden: torch.Tensor, spans: Sequence[RowSpan]) -> torch.Tensor:
    """(spans, dim) float32: the mean of each span's hidden states; an empty span gives zeros."""
    dim = hidden.shape[-1]
    rows = [
        hidden[row, start:stop].float().mean(dim=0)
        if stop > start
        else hidden.new_zeros(dim, dtype=torch.float32)
        for row, start, stop in spans
    ]
    if not rows:
        return hidden.new_zeros((0, dim), dtype=torch.float32)
    return torch.stack(rows)
