"""Any sentence-transformers dense encoder: a transformers encoder, then the pooling and the
normalisation that the model's own ``modules.json`` declares.

Supported module chain: Transformer → Pooling (cls / mean / max / mean_sqrt_len_tokens /
lasttoken, alone or combined) → optional Normalize. Anything else (Dense, LayerNorm, …) fails
start-up with a line naming the module, rather than serving vectors the model never meant.
The query/document prompts of ``config_sentence_transformers.json`` are prefixed as
sentence-transformers does. Parity with ``SentenceTransformer.encode`` is tested.

A mean-pooled model does late chunking: a text sent with ``spans`` gets the mean of each
span's token states (normalised if the model normalises) instead of its own vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from transformers import AutoModel, AutoTokenizer

from app.errors import ModelLoadError
from app.models.base import (
    EmbeddingBackend,
    Head,
    InputType,
    ItemEmbedding,
    ModelInfo,
    TokenizedText,
    TruncationSide,
)
from app.models.late_pooling import row_spans, span_means
from app.models.pooling import POOLERS, l2_normalize, pool, pooling_modes
from app.models.runtime import pad_batch
from app.models.source import ModelDir
from app.models.tokenization import TextTokenizer
from app.models.transfer import to_host
from app.settings import Settings

#: RoBERTa-style position ids start after the padding index, so those slots are never usable.
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2, "camembert": 2, "mpnet": 2}


@dataclass(frozen=True)
class SentenceTransformerLayout:
    """What a sentence-transformers model directory says about how to embed with it."""

    transformer_dir: Path
    pooling: tuple[str, ...]
    normalize: bool
    max_seq_length: int | None = None
    do_lower_case: bool = False
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None

    def prompt_for(self, input_type: InputType) -> str:
        names = ("query",) if input_type == "query" else ("document", "passage")
        for prompt_name in names:
            if prompt_name in self.prompts:
                return self.prompts[prompt_name]
        if self.default_prompt_name:
            return self.prompts.get(self.default_prompt_name, "")
        return ""


def read_layout(model_dir: ModelDir) -> SentenceTransformerLayout:
    """Parse ``modules.json`` and the module configs; unsupported modules raise ModelLoadError."""
    modules = model_dir.read_json("modules.json")
    transformer_dir: Path | None = None
    pooling: tuple[str, ...] | None = None
    normalize = False
    for module in sorted(modules, key=lambda m: int(m.get("idx", 0))):
        module_type = str(module.get("type", "")).rsplit(".", 1)[-1]
        module_dir = model_dir.path / str(module.get("path", ""))
        if module_type == "Transformer" and transformer_dir is None:
            transformer_dir = module_dir
        elif module_type == "Pooling" and pooling is None:
            pooling = _read_pooling(model_dir, module_dir)
        elif module_type == "Normalize":
            normalize = True
        else:
            raise ModelLoadError(
                f"model {model_dir.ref}: sentence-transformers module {module.get('type')!r} "
                "is not supported (supported: Transformer, Pooling, Normalize)"
            )
    if transformer_dir is None or pooling is None:
        raise ModelLoadError(
            f"model {model_dir.ref}: modules.json needs a Transformer and a Pooling module"
        )
    bert_config = _json_or_empty(transformer_dir / "sentence_bert_config.json")
    st_config = _json_or_empty(model_dir.path / "config_sentence_transformers.json")
    return SentenceTransformerLayout(
        transformer_dir=transformer_dir,
        pooling=pooling,
        normalize=normalize,
        max_seq_length=bert_config.get("max_seq_length"),
        do_lower_case=bool(bert_config.get("do_lower_case", False)),
        prompts={str(k): str(v) for k, v in (st_config.get("prompts") or {}).items()},
        default_prompt_name=st_config.get("default_prompt_name"),
    )


def _read_pooling(model_dir: ModelDir, module_dir: Path) -> tuple[str, ...]:
    config = _json_or_empty(module_dir / "config.json")
    modes = pooling_modes(config)
    unsupported = [m for m in modes if m not in POOLERS]
    if unsupported:
        raise ModelLoadError(
            f"model {model_dir.ref}: pooling mode {', '.join(unsupported)} is not supported "
            f"(supported: {', '.join(POOLERS)})"
        )
    if config.get("include_prompt") is False:
        # Pooling without the prompt tokens (INSTRUCTOR-style) needs per-text prompt offsets.
        raise ModelLoadError(f"model {model_dir.ref}: pooling with include_prompt=false")
    return modes


def _json_or_empty(path: Path) -> dict[str, Any]:
    import json

    if not path.is_file():
        return {}
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, dict) else {}


def position_limit(config: Any) -> int:
    """Longest input the model's position embeddings allow."""
    limit = int(getattr(config, "max_position_embeddings", 0) or 0) or 1_000_000
    return limit - _POSITION_OFFSET.get(str(config.model_type), 0)


class SentenceTransformerBackend(EmbeddingBackend):
    kind = "sentence-transformers"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE})

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return model_dir.has("modules.json")

    def __init__(
        self,
        model_dir: ModelDir,
        *,
        name: str,
        device: torch.device,
        dtype: torch.dtype,
        settings: Settings,
    ) -> None:
        self.layout = read_layout(model_dir)
        self.device = device
        self.encoder = AutoModel.from_pretrained(self.layout.transformer_dir, dtype=dtype)
        self.encoder.to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(self.layout.transformer_dir)
        limit = min(
            settings.bge_embed_max_length,
            self.layout.max_seq_length or settings.bge_embed_max_length,
            position_limit(self.encoder.config),
        )
        self.left_padding = tokenizer.padding_side == "left"
        self.truncation_side = tokenizer.truncation_side  # type: ignore[misc]
        self.tokenizer = TextTokenizer(tokenizer, limit, truncation_side=self.truncation_side)
        hidden = int(self.encoder.config.hidden_size)
        self.info = ModelInfo(
            name=name,
            kind=self.kind,
            source=str(model_dir.path),
            max_length=limit,
            dimension=hidden * len(self.layout.pooling),
            extra={"pooling": "+".join(self.layout.pooling), "normalized": self.layout.normalize},
        )
        # Late chunking pools a chunk's tokens as the model pools a text's: only a mean-pooled
        # model's vector is that (right padding keeps span positions as sent; a lower-cased
        # text could move the chunks' character offsets).
        self.pools_spans = (
            self.layout.pooling == ("mean",)
            and not self.left_padding
            and not self.layout.do_lower_case
        )
        # one pass over a document may use every position (MiniLM: 512, not its 256 limit)
        self.window_tokens = min(settings.bge_embed_max_length, position_limit(self.encoder.config))

    def tokenize(
        self,
        texts: Sequence[str],
        input_type: InputType,
        truncation_side: TruncationSide | None = None,
    ) -> list[TokenizedText]:
        prompt = self.layout.prompt_for(input_type)
        prepared = [prompt + text for text in texts]
        if self.layout.do_lower_case:
            prepared = [text.lower() for text in prepared]
        return self.tokenizer.encode(prepared, truncation_side)

    def prompt_for(self, input_type: InputType) -> str:
        return self.layout.prompt_for(input_type)

    @torch.inference_mode()
    def embed(self, batch: Sequence[TokenizedText], heads: frozenset[Head]) -> list[ItemEmbedding]:
        ids, mask = pad_batch(
            [t.ids for t in batch], self.tokenizer.pad_id, self.device, left=self.left_padding
        )
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        vectors = pool(hidden, mask, self.layout.pooling)
        spans = row_spans(batch)
        wanted = [vectors]
        if spans:
            # late chunking (only offered for mean pooling): the mean of each span's tokens
            wanted.append(span_means(hidden, spans))
        if self.layout.normalize:
            wanted = [l2_normalize(v) for v in wanted]
        arrays = to_host(wanted)
        out: list[ItemEmbedding] = []
        chunk_rows = iter(arrays[1]) if spans else iter(())
        for row, text in enumerate(batch):
            if text.spans is None:
                out.append(ItemEmbedding(dense=arrays[0][row]))
            else:
                out.append(
                    ItemEmbedding(
                        chunks=[ItemEmbedding(dense=next(chunk_rows)) for _ in text.spans]
                    )
                )
        return out
