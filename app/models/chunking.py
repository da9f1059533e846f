"""Documents cut into chunks with the model's own tokenizer, each chunk with its exact
character offsets and the run of the document's tokens it covers.

The cutting is semantic-text-splitter's ``TextSplitter``, counting with the model's own
tokenizer: chunks of at most ``max_tokens`` tokens that end at the largest boundary that fits
(paragraph, then sentence, then word...), with up to ``overlap_tokens`` tokens shared by
neighbours, trimmed of whitespace. It counts through our tokenizer (``from_callback``) rather
than a copy of its own (``from_huggingface_tokenizer``): a copy of XLM-R's costs about 300 MB
and seconds to build, for each (max_tokens, overlap) asked for, where a count costs the same.

The document is tokenized once with offsets; a chunk's tokens are those whose characters fall
in it (a token's leading whitespace, XLM-R's ``▁``, does not count), so late chunking pools
exactly the tokens of the chunk's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from semantic_text_splitter import TextSplitter

from app.models.tokenization import TextTokenizer

#: times a document is cut again with a smaller capacity when a chunk's tokens inside the
#: document outnumber its tokens alone (a boundary token can differ: XLM-R's ``▁``)
_RECUTS = 4
#: what ``late_chunking`` inputs are joined with into one document (Jina's flag)
JOINER = " "


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: ``text[start:end]`` of its document, and its tokens there,
    ``[first_token, stop_token)`` of the document's tokens (no special tokens)."""

    start: int
    end: int
    first_token: int
    stop_token: int

    @property
    def tokens(self) -> int:
        return self.stop_token - self.first_token


@dataclass(frozen=True, slots=True)
class SplitDocument:
    text: str
    #: the document's token ids, no special tokens, untruncated
    ids: list[int]
    chunks: list[Chunk]


def splitter(tokenizer: TextTokenizer, capacity: int, overlap: int) -> TextSplitter:
    return TextSplitter.from_callback(tokenizer.count, capacity, overlap=overlap, trim=True)


def split(tokenizer: TextTokenizer, text: str, max_tokens: int, overlap: int) -> SplitDocument:
    """``text`` cut into chunks of at most ``max_tokens`` tokens (counted alone and inside the
    document alike), neighbours sharing at most ``overlap`` tokens."""
    ids, offsets = tokenizer.encode_offsets(text)
    content_starts, stops = _token_bounds(text, offsets)
    capacity = max_tokens
    for _ in range(_RECUTS):
        pieces = splitter(tokenizer, capacity, min(overlap, capacity - 1)).chunk_indices(text)
        chunks = [
            Chunk(
                start, start + len(piece), *_tokens_within(content_starts, stops, start, len(piece))
            )
            for start, piece in pieces
        ]
        over = max((c.tokens for c in chunks), default=0) - max_tokens
        if over <= 0:
            return SplitDocument(text, ids, chunks)
        capacity = max(1, capacity - over)
    # never seen: the last cut's chunks, each pooled from its first max_tokens tokens
    clipped = [
        Chunk(c.start, c.end, c.first_token, min(c.stop_token, c.first_token + max_tokens))
        for c in chunks
    ]
    return SplitDocument(text, ids, clipped)


def given(tokenizer: TextTokenizer, pieces: Sequence[str]) -> SplitDocument:
    """Consecutive chunks of one document, as a client cut them (Jina's ``late_chunking``):
    the document is the pieces joined by ``JOINER``, each piece one chunk of it."""
    text = JOINER.join(pieces)
    ids, offsets = tokenizer.encode_offsets(text)
    content_starts, stops = _token_bounds(text, offsets)
    chunks: list[Chunk] = []
    start = 0
    for piece in pieces:
        chunks.append(
            Chunk(
                start, start + len(piece), *_tokens_within(content_starts, stops, start, len(piece))
            )
        )
        start += len(piece) + len(JOINER)
    return SplitDocument(text, ids, chunks)


def _token_bounds(text: str, offsets: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per token: where its content starts (past leading whitespace, unless it is nothing but
    whitespace) and where it stops, in characters."""
    starts = np.fromiter((a for a, _ in offsets), dtype=np.int64, count=len(offsets))
    stops = np.fromiter((b for _, b in offsets), dtype=np.int64, count=len(offsets))
    for i, (a, b) in enumerate(offsets):
        if b - a > 1 and text[a].isspace():
            content = len(text[a:b]) - len(text[a:b].lstrip())
            if a + content < b:
                starts[i] = a + content
    # offsets run forward in every tokenizer served here; the running bounds make sure
    return np.maximum.accumulate(starts) if len(starts) else starts, (
        np.maximum.accumulate(stops) if len(stops) else stops
    )


def _tokens_within(
    content_starts: np.ndarray, stops: np.ndarray, start: int, length: int
) -> tuple[int, int]:
    """The tokens whose characters meet ``[start, start + length)``."""
    first = int(np.searchsorted(stops, start, side="right"))
    stop = int(np.searchsorted(content_starts, start + length, side="left"))
    return first, max(first, stop)
