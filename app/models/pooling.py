"""Sentence pooling over token states, as sentence-transformers defines it, and Matryoshka cuts.

Every function takes ``hidden`` (batch, tokens, dim) and the 0/1 ``mask`` (batch, tokens) and
works for left- and right-padded batches alike; pooled vectors come out in float32.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from app.models.fronts.sentence_transformer import POOLING_MODES

Pooler = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cls_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # argmax of a 0/1 row is its first real token: 0 with right padding.
    first = mask.to(torch.int32).argmax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), first].float()


def last_token_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    seq_len = mask.shape[1]
    # The last real token: the first 1 of the flipped row, counted from the end.
    from_end = mask.to(torch.int32).flip(1).argmax(dim=1)
    last = seq_len - 1 - from_end
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last].float()


def _masked_sum(hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    weights = mask.unsqueeze(-1).to(torch.float32)
    summed = (hidden.float() * weights).sum(dim=1)
    counts = weights.sum(dim=1).clamp(min=1e-9)
    return summed, counts


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    summed, counts = _masked_sum(hidden, mask)
    return summed / counts


def mean_sqrt_len_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    summed, counts = _masked_sum(hidden, mask)
    return summed / counts.sqrt()


def max_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    masked = hidden.float().masked_fill(mask.unsqueeze(-1) == 0, float("-inf"))
    return masked.max(dim=1).values


#: sentence-transformers' mode names, in the order it concatenates combined modes.
POOLERS: dict[str, Pooler] = {
    "cls": cls_pool,
    "max": max_pool,
    "mean": mean_pool,
    "mean_sqrt_len_tokens": mean_sqrt_len_pool,
    "lasttoken": last_token_pool,
}
assert tuple(POOLERS) == POOLING_MODES  # the front checks a model's modes against these


def pool(hidden: torch.Tensor, mask: torch.Tensor, modes: tuple[str, ...]) -> torch.Tensor:
    """Pool with each mode and concatenate, as a combined sentence-transformers Pooling does."""
    pooled = [POOLERS[mode](hidden, mask) for mode in modes]
    return pooled[0] if len(pooled) == 1 else torch.cat(pooled, dim=-1)


def l2_normalize(vectors: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(vectors.float(), p=2.0, dim=-1)


def matryoshka(vector: np.ndarray, dimensions: int) -> np.ndarray:
    """The first ``dimensions`` components, L2-normalised again (Matryoshka truncation)."""
    if not 0 < dimensions <= vector.shape[-1]:
        raise ValueError(f"dimensions must be between 1 and {vector.shape[-1]}, got {dimensions}")
    cut = np.asarray(vector[..., :dimensions], dtype=np.float32)
    norm = np.linalg.norm(cut, axis=-1, keepdims=True)
    return np.divide(cut, norm, out=np.zeros_like(cut), where=norm > 0)
