"""Deterministic benchmark inputs: texts of mixed (or short) lengths and the request bodies of
each scenario (the original's ``embed_dense``, ``embed_full`` and ``rerank``).

Every text is distinct, so no layer of the server or the client can answer from a cache;
only ``repeat_share`` (``--repeat-share``, for measuring EMBED_CACHE_MB) makes some repeat."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

Scenario = Literal["embed_dense", "embed_full", "rerank"]
SCENARIOS: tuple[Scenario, ...] = ("embed_dense", "embed_full", "rerank")
Lengths = Literal["mixed", "short"]
#: words per text: mixed spreads 4-128 words (~6-170 tokens); short is 4-16 words, queries
#: and titles, the fast-device case where the server's own work per request decides
WORD_RANGES: dict[Lengths, tuple[int, int]] = {"mixed": (4, 128), "short": (4, 16)}

_WORDS = tuple(
    " ".join(
        (
            "search retrieval vector index query document passage embedding dense sparse token",
            "model server batch latency throughput cluster replica request answer context",
            "ranking hybrid lexical semantic neural network cosine similarity memory device",
            "graph node language multilingual sentence paragraph chapter library archive",
            "question knowledge",
        )
    ).split(" ")
)


def mixed_texts(count: int, *, seed: int, min_words: int = 4, max_words: int = 128) -> list[str]:
    """``count`` texts whose lengths spread evenly on a log scale between the bounds, so a
    batch mixes short queries with long passages (the case padding hurts most)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = round(min_words * (max_words / min_words) ** rng.random())
        texts.append(" ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + ".")
    return texts


@dataclass(frozen=True)
class Workload:
    scenario: Scenario
    batch_size: int
    requests: int
    seed: int = 7
    lengths: Lengths = "mixed"
    #: share of the texts that repeat a text of an earlier request (0: all distinct)
    repeat_share: float = 0.0

    def bodies(self) -> list[dict[str, Any]]:
        low, high = WORD_RANGES[self.lengths]
        texts = mixed_texts(
            self.requests * self.batch_size, seed=self.seed, min_words=low, max_words=high
        )
        for i, text in enumerate(texts):
            texts[i] = f"{text} {i}"  # distinct even where two draws coincide
        if self.repeat_share:
            repeat_earlier(texts, self.batch_size, self.repeat_share, seed=self.seed + 2)
        chunks = [
            texts[i * self.batch_size : (i + 1) * self.batch_size] for i in range(self.requests)
        ]
        if self.scenario == "rerank":
            queries = mixed_texts(self.requests, seed=self.seed + 1, max_words=16)
            return [{"query": q, "passages": c} for q, c in zip(queries, chunks, strict=True)]
        full = self.scenario == "embed_full"
        return [
            {"sentences": c, "return_dense": True, "return_sparse": full, "return_colbert": full}
            for c in chunks
        ]

    @property
    def path(self) -> str:
        return "/rerank" if self.scenario == "rerank" else "/embeddings/"


def repeat_earlier(texts: list[str], batch_size: int, share: float, *, seed: int) -> None:
    """Make ``round(share * len(texts))`` of the texts, at random places after the first
    request, copies of distinct texts of earlier requests (in place)."""
    rng = random.Random(seed)
    count = round(share * len(texts))
    later = range(batch_size, len(texts))
    if count > len(later):
        raise ValueError(f"repeat share {share} leaves too few distinct texts to repeat")
    repeats = set(rng.sample(later, count))
    for i in sorted(repeats):
        start = i - i % batch_size  # its own request's first text
        taken = set(texts[start:i])  # a request does not hold one text twice
        sources = [j for j in range(start) if j not in repeats and texts[j] not in taken]
        texts[i] = texts[rng.choice(sources)]
