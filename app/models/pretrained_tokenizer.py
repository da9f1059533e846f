"""A model directory's transformers tokenizer, read once per model set for models that ship
the same tokenizer files.

bge-m3 and bge-reranker-v2-m3 ship the same XLM-R tokenizer: a 17 MB ``tokenizer.json`` with
250k pieces, which takes seconds to parse and about 280 MB to hold. A default model set loads
both. The backends read their wrapper's attributes and copy its Rust tokenizer
(``app.models.tokenization``) while they start, and drop it, so a wrapper is shared only while
one model set loads (``shared_while_loading``), never held for the life of the process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

#: the files a transformers tokenizer is read from (those a directory has)
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
)
#: what AutoTokenizer may read from the model's config to choose the tokenizer's class
_CONFIG_KEYS = ("model_type", "tokenizer_class")

_loading: dict[str, PreTrainedTokenizerBase] | None = None


def tokenizer_digest(path: Path) -> str:
    """Equal for two directories whose tokenizers are read from the same bytes."""
    digest = hashlib.sha256()
    for name in _TOKENIZER_FILES:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    config = path / "config.json"
    if config.is_file():
        fields = json.loads(config.read_text())
        chosen = {key: fields.get(key) for key in _CONFIG_KEYS}
        digest.update(json.dumps(chosen, sort_keys=True).encode())
    return digest.hexdigest()


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """``AutoTokenizer.from_pretrained(path)``; inside ``shared_while_loading``, the wrapper
    already read from identical files if there is one."""
    if _loading is None:
        return AutoTokenizer.from_pretrained(path)
    key = tokenizer_digest(path)
    tokenizer = _loading.get(key)
    if tokenizer is None:
        tokenizer = _loading[key] = AutoTokenizer.from_pretrained(path)
    return tokenizer


@contextmanager
def shared_while_loading() -> Iterator[None]:
    """Share tokenizers read from identical files among the backends loaded inside."""
    global _loading
    outer = _loading
    _loading = {} if outer is None else outer
    try:
        yield
    finally:
        _loading = outer
