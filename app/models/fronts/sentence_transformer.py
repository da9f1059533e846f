"""A sentence-transformers model's front: what its ``modules.json`` and configs say (the
pooling and normalisation, the prompts, lower-casing), read without loading it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from app.errors import ModelLoadError
from app.models.base import Head, InputType
from app.models.fronts.base import EmbeddingFront
from app.models.source import ModelDir
from app.models.tokens import TokenizedText, TruncationSide

#: the pooling modes the engine implements (``app.models.pooling.POOLERS``)
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "lasttoken")

_LEGACY_KEYS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


def pooling_modes(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The modes a ``1_Pooling/config.json`` asks for (new ``pooling_mode`` key or the legacy
    ``pooling_mode_*`` booleans); sentence-transformers falls back to mean when none is set."""
    if "pooling_mode" in config:
        mode = config["pooling_mode"]
        return (mode,) if isinstance(mode, str) else tuple(mode)
    modes = tuple(mode for key, mode in _LEGACY_KEYS.items() if config.get(key))
    return modes or ("mean",)


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
    unsupported = [m for m in modes if m not in POOLING_MODES]
    if unsupported:
        raise ModelLoadError(
            f"model {model_dir.ref}: pooling mode {', '.join(unsupported)} is not supported "
            f"(supported: {', '.join(POOLING_MODES)})"
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


class SentenceTransformerFront(EmbeddingFront):
    kind = "sentence-transformers"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE})
    layout: SentenceTransformerLayout

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        return model_dir.has("modules.json")

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
