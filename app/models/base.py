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
from typing import ClassVar, Literal

import numpy as np

from app.models.tokenization import TextTokenizer
from app.models.tokens import TokenizedPair, TokenizedText, TruncationSide

InputType = Literal["query", "document"]


class Head(str, enum.Enum):
    DENSE = "dense"
    SPARSE = "sparse"
    COLBERT = "colbert"


class TokenIds(tuple[int, ...]):
    """One input given as its token ids (TEI's token-id input): the model's input as it is,
    special tokens included, never tokenized again; cut as a text is when over-long."""

    __slots__ = ()


#: what an embedding request's item is: a text, or a text's token ids
EmbedInput = str | TokenIds


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

    def tokenize_inputs(
        self,
        inputs: Sequence[EmbedInput],
        input_type: InputType,
        truncation_side: TruncationSide | None = None,
    ) -> list[TokenizedText]:
        """``tokenize`` for the texts; token ids as they are (no prompt: they are the model's
        input already), cut by the same rule as a text (``TextTokenizer.from_ids``)."""
        # the side is passed only when asked for, so every backend keeps its own default
        side = () if truncation_side is None else (truncation_side,)
        texts: list[tuple[int, str]] = []
        given: list[tuple[int, TokenIds]] = []
        for i, item in enumerate(inputs):
            if isinstance(item, str):
                texts.append((i, item))
            else:
                given.append((i, item))
        if not given:  # the usual case
            return self.tokenize([text for _, text in texts], input_type, *side)
        out: list[TokenizedText | None] = [None] * len(inputs)
        if texts:
            encoded = self.tokenize([text for _, text in texts], input_type, *side)
            for (i, _), tokens in zip(texts, encoded, strict=True):
                out[i] = tokens
        as_given = self.tokenizer.from_ids([ids for _, ids in given], truncation_side)
        for (i, _), tokens in zip(given, as_given, strict=True):
            out[i] = tokens
        return [tokens for tokens in out if tokens is not None]

    def prompt_for(self, input_type: InputType) -> str:
        """The text ``tokenize`` puts before each text of this input type."""
        return ""

    @property
    def vocab_size(self) -> int:
        """Token ids this model takes run from 0 to this, exclusive."""
        return self.tokenizer.vocab_size

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

    #: whether ``tokenize_texts`` can score a lone text (a cross-encoder scores
    #: ``<s> text </s>`` as TEI does; a reranker whose score needs a query cannot)
    scores_lone_texts: ClassVar[bool] = False

    def tokenize_texts(
        self, texts: Sequence[str], truncation_side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        """Lone texts, each scored as a one-text input (TEI's ``/predict`` with one string);
        the text fills the pair's query side, its passage side is empty."""
        raise NotImplementedError(f"{self.name} scores (query, text) pairs only")

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
