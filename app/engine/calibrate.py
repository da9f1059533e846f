"""What one forward pass costs beyond its tokens, measured on the loaded model at start-up.

The batcher grows a batch only while that raises real tokens / (overhead + padded tokens)
(``app.scheduler.batcher.cut_batch``), so it needs the fixed cost of a pass in tokens of
compute. That depends on the model and the device far more than any default can: a MiniLM
pass on a CPU costs about 30 tokens' worth, a tiny model's (or any model's on a fast GPU)
thousands, because its time is kernel launches and Python, not arithmetic.

Two batch shapes are timed (best of a few runs each): one short text, and 16 texts of about
64 tokens. A straight line through them gives the fixed cost and the cost per token.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

from app.models.base import EmbeddingBackend, RerankBackend, TokenizedPair, TokenizedText

#: the estimate is kept within these bounds (a noisy machine can make a slope near zero)
MIN_OVERHEAD_TOKENS, MAX_OVERHEAD_TOKENS = 8, 16384
_LONG_TEXT = "overhead " * 60
_ROWS = 16
_RUNS = 3


def overhead_tokens(
    backend: EmbeddingBackend | RerankBackend, clock: Callable[[], float] = time.perf_counter
) -> int:
    (t_short, n_short), (t_long, n_long) = (
        (_best(run, clock), padded) for run, padded in _passes(backend)
    )
    per_token = (t_long - t_short) / max(1, n_long - n_short)
    if per_token <= 0:
        return MAX_OVERHEAD_TOKENS
    fixed = max(0.0, t_short - per_token * n_short)
    return int(min(MAX_OVERHEAD_TOKENS, max(MIN_OVERHEAD_TOKENS, fixed / per_token)))


_SHAPES = (("overhead", 1), (_LONG_TEXT, _ROWS))


def _passes(backend: EmbeddingBackend | RerankBackend) -> list[tuple[Callable[[], object], int]]:
    """The two passes, each with the padded tokens it runs."""
    if isinstance(backend, RerankBackend):
        reranker = backend
        pairs = [reranker.tokenize_pairs("overhead", [text] * rows) for text, rows in _SHAPES]
        return [(functools.partial(reranker.score, batch), _padded(batch)) for batch in pairs]
    embedder = backend
    texts = [embedder.tokenize([text] * rows, "document") for text, rows in _SHAPES]
    return [
        (functools.partial(embedder.embed, batch, embedder.heads), _padded(batch))
        for batch in texts
    ]


def _padded(batch: Sequence[TokenizedText] | Sequence[TokenizedPair]) -> int:
    return max(len(item.ids) for item in batch) * len(batch)


def _best(run: Callable[[], object], clock: Callable[[], float]) -> float:
    best = float("inf")
    for _ in range(_RUNS):
        started = clock()
        run()
        best = min(best, clock() - started)
    return best
