"""The fronts' common base: a backend whose forward pass runs elsewhere (in the engine).

The engine's backend overrides ``embed`` / ``score``; a front's raise, so a pass asked of
the API process's copy fails loudly instead of silently."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.models.base import EmbeddingBackend, Head, ItemEmbedding, RerankBackend
from app.models.tokens import TokenizedPair, TokenizedText


class EngineOnly(RuntimeError):
    """A forward pass was asked of a front: passes run where the weights are, in the engine."""


class EmbeddingFront(EmbeddingBackend):
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        raise EngineOnly(f"{self.name}: the forward pass runs in the engine")


class RerankFront(RerankBackend):
    def score(self, batch: Sequence[TokenizedPair]) -> np.ndarray:
        raise EngineOnly(f"{self.name}: the forward pass runs in the engine")
