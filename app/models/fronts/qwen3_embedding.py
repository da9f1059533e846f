"""Qwen3-Embedding's front: a query is prefixed with ``Instruct: {task}\\nQuery:``;
Matryoshka-trained, so clients may ask for fewer dimensions."""

from __future__ import annotations

from typing import ClassVar

from app.models.base import Head, InputType
from app.models.fronts.base import EmbeddingFront
from app.models.source import ModelDir


def query_prompt(task: str) -> str:
    return f"Instruct: {task}\nQuery:"


class Qwen3EmbeddingFront(EmbeddingFront):
    kind = "qwen3-embedding"
    heads: ClassVar[frozenset[Head]] = frozenset({Head.DENSE})
    supports_dimensions: ClassVar[bool] = True
    query_prefix: str

    @classmethod
    def matches(cls, model_dir: ModelDir) -> bool:
        # Qwen3-Embedding checkpoints name Qwen3ForCausalLM but ship a sentence-transformers
        # layout; a bare Qwen3Model is an encoder too. A Qwen3 LM without either is a reranker
        # or a chat model, not an embedder.
        return model_dir.model_type == "qwen3" and (
            "Qwen3Model" in model_dir.architectures or model_dir.has("modules.json")
        )

    def prompt_for(self, input_type: InputType) -> str:
        return self.query_prefix if input_type == "query" else ""
