"""A cross-encoder's front: a ``*ForSequenceClassification`` model scoring (query, passage)
pairs, or a lone text as TEI's ``/predict`` does."""

from __future__ import annotations

from collections.abc import Sequence

from app.models.fronts.base import RerankFront
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.models.tokens import TokenizedPair, TruncationSide


class CrossEncoderFront(RerankFront):
    kind = "cross-encoder"
    scores_lone_texts = True
    tokenizer: TextTokenizer

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return any(a.endswith("ForSequenceClassification") for a in model_dir.architectures)

    def tokenize_pairs(
        self, query: str, passages: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        return self.tokenizer.encode_pairs(query, passages, truncation_side)

    def tokenize_texts(
        self, texts: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        return self.tokenizer.encode_lone(texts, truncation_side)
