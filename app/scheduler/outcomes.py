"""What the scheduler takes and gives: the batch limits it cuts by, the kinds of work it
queues, and the outcome of a request's passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.models.base import EmbeddingBackend, ItemEmbedding, TokenizedPair, TokenizedText

Kind = Literal["embed", "rerank"]


@dataclass(frozen=True)
class BatchLimits:
    max_tokens: int
    max_items: int
    #: see ``cut_batch``; None grows batches as far as the budget allows
    overhead_tokens: int | None = None


@dataclass
class EmbedOutcome:
    items: list[ItemEmbedding]
    #: the tokenization each model saw, for truncation warnings and usage counts
    tokenized: list[tuple[EmbeddingBackend, list[TokenizedText]]]


@dataclass
class RerankOutcome:
    scores: np.ndarray
    pairs: list[TokenizedPair]
