"""bge-m3's front: an XLM-R encoder with ``sparse_linear.pt`` beside it; all three heads."""

from __future__ import annotations

from typing import ClassVar

from app.models.base import Head
from app.models.fronts.base import EmbeddingFront
from app.models.source import ModelDir


class BgeM3Front(EmbeddingFront):
    kind = "bge-m3"
    heads: ClassVar[frozenset[Head]] = frozenset(Head)

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return model_dir.model_type == "xlm-roberta" and model_dir.has("sparse_linear.pt")
