"""Model-ready token ids: what tokenization hands to a forward pass, with what truncation
cut. The lowest module of the model layer: the backends, the tokenizer and the engine's wire
all read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

#: which end of an over-long text truncation cuts (TEI's ``truncation_direction``)
TruncationSide = Literal["left", "right"]
#: late chunking: a run of token positions [start, stop) of one text, pooled into one chunk
PoolSpan = tuple[int, int]


@dataclass(slots=True)
class TokenizedText:
    """Model-ready token ids of one text (special tokens included, already truncated)."""

    ids: list[int]
    original_tokens: int
    type_ids: list[int] | None = None
    #: late chunking: pool these positions of ``ids`` into one vector set each (the result's
    #: ``chunks``) instead of giving the text's own vectors; None: the text's own vectors
    spans: Sequence[PoolSpan] | None = None

    @property
    def truncated(self) -> bool:
        return self.original_tokens > len(self.ids)


@dataclass(slots=True)
class TokenizedPair:
    """Model-ready ids of one (query, passage) pair, with what truncation cut from each side."""

    ids: list[int]
    query_tokens: int
    query_kept: int
    passage_tokens: int
    passage_kept: int
    type_ids: list[int] | None = None
