"""The ``chunking`` option of ``POST /embeddings/``: long documents cut on the server, each
chunk with exact character offsets and its vectors (late chunking by default)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

#: a chunk's size when the request names none (or the model's limit where that is lower)
DEFAULT_CHUNK_TOKENS = 256


class ChunkingOptions(Struct, kw_only=True, forbid_unknown_fields=True):
    max_tokens: Annotated[
        Annotated[int, Meta(ge=1)] | None,
        Meta(
            description="The most tokens of a chunk, counted with the model's own tokenizer "
            "(special tokens aside); at most the model's limit less its special tokens (a 422 "
            f"says it). null: {DEFAULT_CHUNK_TOKENS}, or the model's limit where that is lower"
        ),
    ] = None
    overlap_tokens: Annotated[
        int,
        Meta(
            description="The most tokens neighbouring chunks may share (less than max_tokens); "
            "the splitter overlaps whole sentences or words that fit in it",
            ge=0,
        ),
    ] = 0
    late: Annotated[
        bool,
        Meta(
            description="Late chunking: the whole document in one pass (windows beyond the "
            "model's positions), each chunk pooled from its tokens there, so its vectors know "
            "the document. false: each chunk embedded alone, pooled the same way"
        ),
    ] = True
