"""Tokenization with exact truncation accounting, on the Rust tokenizer directly.

Texts are encoded without a length limit first, so the original token count is known and
the truncation warnings report it exactly; only over-long texts are cut and re-assembled
with the model's special tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenizers import Encoding, Tokenizer

from app.models.tokens import TokenizedPair, TokenizedText, TruncationSide

if TYPE_CHECKING:
    # annotations only: this module (and the model layer's base) loads without transformers
    from transformers import PreTrainedTokenizerBase

#: ids decoded before a given id to read its text (``TextTokenizer.id_spans``)
_CONTEXT_IDS = 4

#: Rust tokenizers unpickled in this process, by their JSON's digest. bge-m3 and its
#: reranker ship the same XLM-R tokenizer, about 280 MB of RSS each (its 250k-piece
#: vocabulary's trie): the API process holds one. Shared safely: a ``TextTokenizer`` never
#: changes its tokenizer after construction (no truncation, no padding, read-only calls).
_SHARED: dict[str, Tokenizer] = {}


def _shared_tokenizer(serialized: str) -> Tokenizer:
    key = hashlib.sha256(serialized.encode()).hexdigest()
    tokenizer = _SHARED.get(key)
    if tokenizer is None:
        tokenizer = _SHARED[key] = Tokenizer.from_str(serialized)
    return tokenizer


@dataclass(frozen=True, slots=True)
class TokenSpan:
    """One token of a text as TEI's ``/tokenize`` shows it: its id, its text, and for a token
    of the text (not a special one) the characters it covers."""

    id: int
    text: str
    special: bool
    start: int | None
    stop: int | None


class TextTokenizer:
    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        max_length: int,
        *,
        truncation_side: str = "right",
        with_type_ids: bool = False,
    ) -> None:
        backend: Tokenizer = tokenizer.backend_tokenizer
        # Taken over, not copied: the wrapper is dropped once its model has started (it would
        # toggle truncation and padding on it each call). Models that ship the same files get
        # the same wrapper while they load (app.models.pretrained_tokenizer), so one Rust
        # tokenizer.
        self._tok = backend
        self._tok.no_truncation()
        self._tok.no_padding()
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.with_type_ids = with_type_ids
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        #: token ids run from 0 to this, exclusive (added tokens included); counted once, as
        #: the Rust tokenizer builds its whole vocabulary to count it (0.1-0.3 s for XLM-R's)
        self.vocab_size = int(self._tok.get_vocab_size(with_added_tokens=True))
        self.specials_single = self._tok.num_special_tokens_to_add(False)
        self.specials_pair = self._tok.num_special_tokens_to_add(True)
        self._head, self._tail = self._single_frame()
        self._special_ids = frozenset(
            token_id
            for token_id, token in self._tok.get_added_tokens_decoder().items()
            if token.special
        )

    def __getstate__(self) -> dict[str, object]:
        # what the engine sends the API process (``app.engine.child.without_weights``)
        return {**self.__dict__, "_tok": self._tok.to_str()}

    def __setstate__(self, state: dict[str, object]) -> None:
        serialized = state.pop("_tok")
        assert isinstance(serialized, str)
        self.__dict__.update(state)
        self._tok = _shared_tokenizer(serialized)

    def _single_frame(self) -> tuple[list[int], list[int]]:
        """The special tokens the model's template puts before and after one text's tokens
        (``<s>`` and ``</s>`` for XLM-R, ``[CLS]`` and ``[SEP]`` for BERT)."""
        bare = self._tok.encode("a", add_special_tokens=False).ids
        framed = self._tok.encode("a", add_special_tokens=True).ids
        for start in range(len(framed) - len(bare) + 1):
            if framed[start : start + len(bare)] == bare:
                return framed[:start], framed[start + len(bare) :]
        return [], []

    def encode(
        self, texts: Sequence[str], side: TruncationSide | None = None
    ) -> list[TokenizedText]:
        encodings = self._tok.encode_batch(list(texts), add_special_tokens=True)
        out: list[TokenizedText] = []
        for text, enc in zip(texts, encodings, strict=True):
            original = len(enc.ids)
            if original > self.max_length:
                enc = self._truncated(text, side or self.truncation_side)
            out.append(
                TokenizedText(
                    ids=enc.ids,
                    original_tokens=original,
                    type_ids=enc.type_ids if self.with_type_ids else None,
                )
            )
        return out

    def _truncated(self, text: str, side: str) -> Encoding:
        bare = self._tok.encode(text, add_special_tokens=False)
        bare.truncate(self.max_length - self.specials_single, direction=side)
        return self._tok.post_process(bare, None, True)

    def from_ids(
        self, sequences: Sequence[Sequence[int]], side: TruncationSide | None = None
    ) -> list[TokenizedText]:
        """Token ids taken as the model's input as they are (TEI's token-id inputs). An
        over-long sequence is cut as a text is: where it is framed by the model's special
        tokens (as ``/tokenize`` gives them) those stay and the tokens between lose ``side``'s
        end; otherwise the sequence itself does."""
        out: list[TokenizedText] = []
        for sequence in sequences:
            ids = list(sequence)
            original = len(ids)
            if original > self.max_length:
                ids = self._cut(ids, side or self.truncation_side)
            type_ids = [0] * len(ids) if self.with_type_ids else None
            out.append(TokenizedText(ids=ids, original_tokens=original, type_ids=type_ids))
        return out

    def _cut(self, ids: list[int], side: str) -> list[int]:
        head, tail = self._head, self._tail
        framed = (
            len(ids) >= len(head) + len(tail)
            and ids[: len(head)] == head
            and ids[len(ids) - len(tail) :] == tail
        )
        if not framed:
            head, tail = [], []
        inner = ids[len(head) : len(ids) - len(tail)]
        keep = self.max_length - len(head) - len(tail)
        inner = inner[:keep] if side == "right" else inner[len(inner) - keep :]
        return head + inner + tail

    def encode_pairs(
        self, query: str, passages: Sequence[str], side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        """The query is cut from its end when it must be; the passage from ``side``."""
        q = self._tok.encode(query, add_special_tokens=False)
        bare = self._tok.encode_batch(list(passages), add_special_tokens=False)
        budget = max(2, self.max_length - self.specials_pair)
        out: list[TokenizedPair] = []
        for p in bare:
            q_len, p_len = len(q.ids), len(p.ids)
            q_keep, p_keep = split_pair_budget(q_len, p_len, budget)
            q_enc = q
            if q_keep < q_len:
                q_enc = self._tok.encode(query, add_special_tokens=False)
                q_enc.truncate(q_keep, direction="right")
            if p_keep < p_len:
                p.truncate(p_keep, direction=side or "right")
            enc = self._tok.post_process(q_enc, p, True)
            out.append(
                TokenizedPair(
                    ids=enc.ids,
                    query_tokens=q_len,
                    query_kept=q_keep,
                    passage_tokens=p_len,
                    passage_kept=p_keep,
                    type_ids=enc.type_ids if self.with_type_ids else None,
                )
            )
        return out

    def encode_lone(
        self, texts: Sequence[str], side: TruncationSide | None = None
    ) -> list[TokenizedPair]:
        """Texts scored alone (a cross-encoder's one-text input), each as a pair with the text
        in the query's place and no passage; cut as ``encode`` cuts a text."""
        return [
            TokenizedPair(
                ids=text.ids,
                query_tokens=text.original_tokens - self.specials_single,
                query_kept=len(text.ids) - self.specials_single,
                passage_tokens=0,
                passage_kept=0,
                type_ids=text.type_ids,
            )
            for text in self.encode(texts, side)
        ]

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def encode_bare(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def spans(self, text: str, add_special_tokens: bool = True) -> list[TokenSpan]:
        """Every token of ``text``, untruncated, with the characters each one covers."""
        enc = self._tok.encode(text, add_special_tokens=add_special_tokens)
        out: list[TokenSpan] = []
        for token_id, token, (start, stop), special in zip(
            enc.ids, enc.tokens, enc.offsets, enc.special_tokens_mask, strict=True
        ):
            if special:
                out.append(TokenSpan(token_id, token, True, None, None))
            else:
                out.append(TokenSpan(token_id, text[start:stop], False, start, stop))
        return out

    def id_spans(self, ids: Sequence[int]) -> list[TokenSpan]:
        """Given token ids as ``spans`` shows a text's tokens: each one's text as it reads in
        the decoded sequence (`` eat``, its space included), whether it is special; they cover
        no characters of any text."""
        out: list[TokenSpan] = []
        for i, token_id in enumerate(ids):
            if token_id in self._special_ids:
                token = self._tok.id_to_token(token_id) or ""
                out.append(TokenSpan(token_id, token, True, None, None))
                continue
            # A token's text depends on what precedes it (a word's leading space, a word
            # piece's join): the few ids before it are decoded with and without it.
            context = list(ids[max(0, i - _CONTEXT_IDS) : i])
            before = self._tok.decode(context, skip_special_tokens=True)
            after = self._tok.decode([*context, token_id], skip_special_tokens=True)
            if after.startswith(before):
                text = after[len(before) :]
            else:  # a decoder that rewrites what came before (its clean-up of spaces)
                text = self._tok.decode([token_id], skip_special_tokens=False)
            out.append(TokenSpan(token_id, text, False, None, None))
        return out

    def encode_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Every token of ``text`` (no special tokens, untruncated) and the characters each
        one covers, ``[start, stop)`` in ``text``."""
        enc = self._tok.encode(text, add_special_tokens=False)
        return enc.ids, enc.offsets

    def special_frame(self) -> tuple[list[int], list[int]]:
        """The special tokens the model puts before and after a text's own (BERT: [CLS] and
        [SEP]; XLM-R: <s> and </s>)."""
        enc = self._tok.encode("a", add_special_tokens=True)
        mask = enc.special_tokens_mask
        first = mask.index(0)
        last = len(mask) - 1 - mask[::-1].index(0)
        return enc.ids[:first], enc.ids[last + 1 :]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)


def split_pair_budget(query_len: int, passage_len: int, budget: int) -> tuple[int, int]:
    """How many query and passage tokens a pair keeps within ``budget``.

    The query stays whole unless it would leave the passage less than half the budget;
    the passage is cut from its end.
    """
    if query_len + passage_len <= budget:
        return query_len, passage_len
    query_keep = min(query_len, max(budget - passage_len, budget // 2))
    return query_keep, min(passage_len, budget - query_keep)
