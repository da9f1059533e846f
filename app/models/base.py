"""The backend contract: what every model family offers the scheduler.

A backend tokenizes on any thread (``tokenize*``: pure CPU, safe to call off the event loop)
and runs forward passes on the inference worker thread only (``embed`` / ``score``).
Nothing here knows about HTTP.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from app.models.tokenization import TextTokenizer

InputType = Literal["query", "document"]
#: which end of an over-long text truncation cuts (TEI's ``truncation_direction``)
TruncationSide = Literal["left", "right"]


class Head(str, enum.Enum):
    DENSE = "dense"
    SPARSE = "sparse"
    COLBERT = "colbert"


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


@dataclass(slots=True)
class SparseVector:
    indices: np.ndarray  # int64 token ids, ascending, unique
    values: np.ndarray  # float32 weights, > 0


@dataclass(slots=True)
class ItemEmbedding:
    dense: np.ndarray | None = None
    sparse: SparseVector | None = None
    colbert: np.ndarray | None = None  # (tokens, dim), rows L2-normalised
    #: a text sent with ``spans``: one embedding per span, in order (and no vectors of its own)
    chunks: list[ItemEmbedding] | None = None

    def leaves(self) -> list[ItemEmbedding]:
        """The embeddings that carry vectors: its chunks', or its own."""
        return self.chunks if self.chunks is not None else [self]


@dataclass(slots=True)
class ModelInfo:
    """How the API and /health describe a loaded model."""

    name: str
    kind: str
    source: str
    max_length: int
    dimension: int | None = None
    extra: dict[str, object] = field(default_factory=dict)
    #: the dtype its weights run in ("float32", "float16", "bfloat16"): set at load time
    dtype: str = "float32"


class EmbeddingBackend(ABC):
    kind: ClassVar[str]
    heads: ClassVar[frozenset[Head]]
    #: Matryoshka-trained models may be truncated to fewer dimensions.
    supports_dimensions: ClassVar[bool] = False
    truncation_side: ClassVar[str] = "right"

    info: ModelInfo
    #: every embedding backend tokenizes with one (``/tokenize`` and ``/decode`` read it)
    tokenizer: TextTokenizer
    #: late chunking: ``embed`` pools a text's ``spans`` from its token states (bge-m3, a
    #: mean-pooled sentence-transformers model); False: it cannot, and is never sent spans
    pools_spans: bool = False
    #: the most tokens one late-chunking pass over a document may hold, special tokens
    #: included: what the model's positions allow (longer documents run in windows)
    window_tokens: int = 0

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def max_length(self) -> int:
        return self.info.max_length

    def tokenize(
        self,
        texts: Sequence[str],
        input_type: InputType,
        truncation_side: TruncationSide | None = None,
    ) -> list[TokenizedText]:
        """Each text after its input type's prompt (``prompt_for``), with the model's special
        tokens. ``truncation_side``: the end an over-long text loses; None is the model's own."""
        prompt = self.prompt_for(input_type)
        prepared = [prompt + text for text in texts] if prompt else texts
        return self.tokenizer.encode(prepared, truncation_side)

    def prompt_for(self, input_type: InputType) -> str:
        """The text ``tokenize`` puts before each text of this input type."""
        return ""

    @abstractmethod
    def embed(
        self, batch: Sequence[TokenizedText], heads: frozenset[Head]
    ) -> list[ItemEmbedding]: ...

    def warmup(self) -> None:
        """Run one short and one long batch so first requests don't pay for lazy init."""
        for text in ("warm up", "warm up " * 64):
            items = self.tokenize([text] * 2, "document")
            self.embed(items, self.heads)


class RerankBackend(ABC):
    kind: ClassVar[str]
    #: True when ``score`` already returns a probability (``normalize`` changes nothing).
    scores_are_probabilities: ClassVar[bool] = False

    info: ModelInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def max_length(self) -> int:
        return self.info.max_length

    @abstractmethod
    def tokenize_pairs(
        self, query: str, passages: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        """``truncation_side``: the end an over-long passage loses (None: its end)."""

    @abstractmethod
    def score(self, batch: Sequence[TokenizedPair]) -> np.ndarray:
        """Raw relevance per pair: a logit, or a probability where the model defines one."""

    def normalize(self, raw: np.ndarray, normalize: bool) -> np.ndarray:
        if normalize and not self.scores_are_probabilities:
            return 1.0 / (1.0 + np.exp(-raw))
        return raw

    def warmup(self) -> None:
        for passage in ("warm up", "warm up " * 64):
            self.score(self.tokenize_pairs("warm up", [passage, passage]))
