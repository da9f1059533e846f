"""SPLADE's front: a masked-LM whose logits are the sparse weights; the sparse head only."""

from __future__ import annotations

from typing import ClassVar

from app.models.base import Head
from app.models.fronts.base import EmbeddingFront
from app.models.source import ModelDir


class SpladeFront(EmbeddingFront):
    kind = "splade"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.SPARSE})
    #: the masked-LM head's vocabulary (from the model's config, set at load time)
    _vocab_size: int

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return any(a.endswith("ForMaskedLM") for a in model_dir.architectures)

    @property
    def vocab_size(self) -> int:
        """The masked-LM head's vocabulary: one logit per token id."""
        return self._vocab_size
