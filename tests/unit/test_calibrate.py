"""The pass-cost measurement (app/engine/calibrate.py) on a backend whose passes cost a known
fixed time plus a known time per padded token, on a clock the test owns (no wall clock)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest

from app.engine import calibrate
from app.models.base import (
    EmbeddingBackend,
    Head,
    InputType,
    ItemEmbedding,
    ModelInfo,
    TokenizedText,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class LinearCostBackend(EmbeddingBackend):
    """One token per word; a pass advances the clock by ``fixed + per_token x padded``."""

    kind = "linear-cost"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE})

    def __init__(self, clock: Clock, fixed: float, per_token: float) -> None:
        self.info = ModelInfo(name="linear", kind=self.kind, source="-", max_length=512)
        self.clock, self.fixed, self.per_token = clock, fixed, per_token

    def tokenize(self, texts: Sequence[str], input_type: InputType) -> list[TokenizedText]:
        return [TokenizedText(ids=[1] * (len(t.split()) + 2), original_tokens=0) for t in texts]

    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        padded = max(len(t.ids) for t in batch) * len(batch)
        self.clock.now += self.fixed + self.per_token * padded
        return [ItemEmbedding(dense=np.zeros(2, dtype=np.float32)) for _ in batch]


@pytest.mark.parametrize(
    ("fixed", "per_token", "expected"),
    [
        (0.004, 0.0001, 40),  # a real model on a CPU: a few tens of tokens
        (0.001, 0.0000005, 2000),  # a tiny model (or a fast GPU): thousands
        (0.0, 0.0001, calibrate.MIN_OVERHEAD_TOKENS),  # no fixed cost: the floor
        (0.01, 0.0, calibrate.MAX_OVERHEAD_TOKENS),  # no cost per token: the ceiling
    ],
)
def test_the_fixed_cost_is_read_in_tokens(fixed: float, per_token: float, expected: int) -> None:
    clock = Clock()
    backend = LinearCostBackend(clock, fixed, per_token)
    assert calibrate.overhead_tokens(backend, clock) == pytest.approx(expected, abs=1)
