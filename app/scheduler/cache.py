"""The opt-in exact-text embedding cache (``EMBED_CACHE_MB``): an LRU bounded by bytes.

It sits at the scheduler's front door, before tokenization and the queues: a text seen
before is answered from here and never reaches a queue or the engine; a request that mixes
seen and new texts sends only the new ones on. The key is everything that decides the
result: the model (its name and the files it was loaded from, which name the revision),
the heads computed, the input type (a prompt may differ), the model's token limit, the end
truncation cuts, and the text itself. An entry keeps the token ids the model saw as well,
so a hit gives the same truncation warnings and token counts as the first answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.models.base import (
    EmbeddingBackend,
    EmbedInput,
    Head,
    InputType,
    ItemEmbedding,
    SparseVector,
    TokenizedText,
)

#: what an entry costs beyond its arrays and text: the key tuple, the entry and the
#: OrderedDict slot (measured with sys.getsizeof, rounded up)
ENTRY_OVERHEAD_BYTES = 400

CacheKey = tuple[str, str, tuple[str, ...], str, int, str, str]


@dataclass(slots=True, frozen=True)
class CacheStats:
    hits: int
    misses: int
    evictions: int
    entries: int
    bytes: int
    max_bytes: int


@dataclass(slots=True)
class _Entry:
    item: ItemEmbedding
    ids: np.ndarray
    original_tokens: int
    type_ids: np.ndarray | None
    nbytes: int

    def tokenized(self) -> TokenizedText:
        type_ids = None if self.type_ids is None else self.type_ids.tolist()
        return TokenizedText(self.ids.tolist(), self.original_tokens, type_ids)


class EmbedCache:
    """Texts' embeddings by exact text; the least recently used go first when full."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def stats(self) -> CacheStats:
        return CacheStats(
            hits=self.hits,
            misses=self.misses,
            evictions=self.evictions,
            entries=len(self._entries),
            bytes=self._bytes,
            max_bytes=self.max_bytes,
        )

    def get(self, key: CacheKey) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(
        self, key: CacheKey, item: ItemEmbedding, tokens: TokenizedText, heads: frozenset[Head]
    ) -> None:
        """Store ``item``'s ``heads`` (its batch may have computed more than the key's)."""
        # copies: a result may be a view into its whole batch's array, which it would pin
        sparse = item.sparse if Head.SPARSE in heads else None
        stored = ItemEmbedding(
            dense=item.dense.copy() if Head.DENSE in heads and item.dense is not None else None,
            sparse=None
            if sparse is None
            else SparseVector(sparse.indices.copy(), sparse.values.copy()),
            colbert=item.colbert.copy()
            if Head.COLBERT in heads and item.colbert is not None
            else None,
        )
        ids = np.asarray(tokens.ids, dtype=np.int32)
        type_ids = None if tokens.type_ids is None else np.asarray(tokens.type_ids, np.int8)
        nbytes = (
            ENTRY_OVERHEAD_BYTES
            + len(key[-1].encode("utf-8"))
            + ids.nbytes
            + (0 if type_ids is None else type_ids.nbytes)
            + _item_bytes(stored)
        )
        if nbytes > self.max_bytes:
            return  # bigger than the whole cache: it would only push everything else out
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= previous.nbytes
        self._entries[key] = _Entry(stored, ids, tokens.original_tokens, type_ids, nbytes)
        self._bytes += nbytes
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes
            self.evictions += 1


def _item_bytes(item: ItemEmbedding) -> int:
    total = 0
    if item.dense is not None:
        total += item.dense.nbytes
    if item.sparse is not None:
        total += item.sparse.indices.nbytes + item.sparse.values.nbytes
    if item.colbert is not None:
        total += item.colbert.nbytes
    return total


class Lookup:
    """One model's share of an embed request, split into cached texts and those to compute.

    Without a cache every text is a miss and nothing is copied or stored; an item given as
    token ids is always a miss, never stored (the cache is of texts)."""

    def __init__(
        self,
        cache: EmbedCache | None,
        backend: EmbeddingBackend,
        heads: frozenset[Head],
        input_type: InputType,
        truncation_side: str | None,
        texts: Sequence[EmbedInput],
    ) -> None:
        self.cache = cache
        self.heads = heads
        self._found: list[_Entry | None] = []
        self._keys: list[CacheKey | None] = []
        if cache is None:
            self.misses: Sequence[EmbedInput] = texts
            self.miss_indices: list[int] = list(range(len(texts)))
            return
        model = (
            backend.name,
            backend.info.source,
            tuple(sorted(h.value for h in heads)),
            input_type,
            backend.max_length,
            truncation_side or backend.truncation_side,
        )
        self._keys = [(*model, text) if isinstance(text, str) else None for text in texts]
        self._found = [None if key is None else cache.get(key) for key in self._keys]
        self.miss_indices = [i for i, entry in enumerate(self._found) if entry is None]
        self.misses = [texts[i] for i in self.miss_indices]

    def tokens(self, computed: list[TokenizedText]) -> list[TokenizedText]:
        """Every text's tokens, in request order: the cached ones and ``computed`` (the
        misses')."""
        if not self._found:
            return computed
        merged = [entry.tokenized() if entry else None for entry in self._found]
        for i, tokens in zip(self.miss_indices, computed, strict=True):
            merged[i] = tokens
        return [t for t in merged if t is not None]

    def items(
        self, computed: Sequence[ItemEmbedding], tokens: Sequence[TokenizedText]
    ) -> list[ItemEmbedding]:
        """Every text's embedding in request order; the misses' (``computed``) are stored."""
        if self.cache is None:
            return list(computed)
        merged = [entry.item if entry else None for entry in self._found]
        for i, item in zip(self.miss_indices, computed, strict=True):
            merged[i] = item
            key = self._keys[i]
            if key is not None:
                self.cache.put(key, item, tokens[i], self.heads)
        return [item for item in merged if item is not None]
