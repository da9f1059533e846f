"""What the scheduler refuses before queueing: over-long texts and pairs when the request
asked not to truncate (TEI's ``truncate: false``), and the message of a full queue."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import InputTooLong
from app.models.base import EmbeddingBackend, RerankBackend, TokenizedPair, TokenizedText
from app.scheduler.priorities import BATCH, Priority


async def nothing() -> list[TokenizedText]:
    """A model with nothing to tokenize, in a gather beside those that have."""
    return []


def refuse_truncated_texts(backend: EmbeddingBackend, texts: Sequence[TokenizedText]) -> None:
    for i, text in enumerate(texts):
        if text.truncated:
            raise InputTooLong(
                f"text {i} of the request has {text.original_tokens} tokens; {backend.name} "
                f"takes {backend.max_length}",
                max_tokens=backend.max_length,
                tokens=text.original_tokens,
                index=i,
            )


def refuse_truncated_pairs(reranker: RerankBackend, pairs: Sequence[TokenizedPair]) -> None:
    for i, pair in enumerate(pairs):
        cut = (pair.query_tokens - pair.query_kept) + (pair.passage_tokens - pair.passage_kept)
        if cut:
            tokens = len(pair.ids) + cut
            raise InputTooLong(
                f"pair {i} of the request (a query and a text) has {tokens} tokens; "
                f"{reranker.name} takes {reranker.max_length}",
                max_tokens=reranker.max_length,
                tokens=tokens,
                index=i,
            )


def queue_full_message(kind: str, priority: Priority, bound: int) -> str:
    """The 503's message when a kind's queue is full for a priority class."""
    if priority == BATCH:
        return f"the {kind} queue is full for batch requests ({bound} waiting); retry later"
    return f"the {kind} queue is full ({bound} requests waiting); retry later"
