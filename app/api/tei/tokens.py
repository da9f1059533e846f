"""TEI's ``POST /tokenize`` and ``POST /decode``, with the tokenizer of the model ``/info``
describes (the dense model, else the sparse or ColBERT one). They run no model, so they are
not queued; long inputs are tokenized off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Controller, Request, Response, post
from litestar.openapi.datastructures import ResponseSpec

from app.api.common.encoding import respond
from app.api.common.inference import embed_limits, runtime_of
from app.api.tei.errors import TEI_METADATA_ERRORS, TEI_OPT, NotServed
from app.api.tei.inputs import (
    check_batch,
    check_vocabulary,
    input_type_of,
    inputs_of,
    primary_backend,
)
from app.api.tei.schemas import TeiDecodeRequest, TeiToken, TeiTokenizeRequest
from app.errors import InvalidInput
from app.models.base import EmbeddingBackend, EmbedInput
from app.models.tokenization import TextTokenizer
from app.runtime import Runtime
from app.scheduler.scheduler import INLINE_TOKENIZE_CHARS

T = TypeVar("T")


def _backend(runtime: Runtime, route: str) -> EmbeddingBackend:
    backend = primary_backend(runtime.require_scheduler().models)
    if backend is None:
        raise NotServed(f"{route} describes the embedding model's tokenizer; none is served here")
    return backend


async def _off_loop(size: int, work: Callable[[], T]) -> T:
    """Small inputs on the loop (the hop costs more than the work), large ones in a thread."""
    if size <= INLINE_TOKENIZE_CHARS:
        return work()
    return await asyncio.to_thread(work)


def _tokens(
    tokenizer: TextTokenizer, inputs: list[EmbedInput], prompt: str, special: bool
) -> list[list[TeiToken]]:
    """Each text's tokens (after ``prompt``), or each token-id list's tokens as given."""
    return [
        [
            TeiToken(id=s.id, text=s.text, special=s.special, start=s.start, stop=s.stop)
            for s in (
                tokenizer.spans(prompt + item, special)
                if isinstance(item, str)
                else tokenizer.id_spans(item)
            )
        ]
        for item in inputs
    ]


class TeiTokensController(Controller):
    tags = ["tei"]
    opt = TEI_OPT

    @post(
        "/tokenize",
        status_code=200,
        summary="Tokenize, TEI shape",
        description="Each input's tokens (untruncated): id, text, whether it is a special token, "
        "and the characters of the input it covers (`start`, `stop`; null for a special token). "
        "With `prompt_name: query` the model's query prompt is tokenized before the text. An "
        "input given as token ids lists those tokens as given, each with its text and no "
        "characters (`start`, `stop` null).",
        responses={
            200: ResponseSpec(list[list[TeiToken]], description="OK", generate_examples=False),
            **TEI_METADATA_ERRORS,
        },
    )
    async def tokenize(
        self, request: Request[Any, Any, Any], data: TeiTokenizeRequest
    ) -> Response[bytes]:
        runtime = runtime_of(request)
        inputs = inputs_of(data.inputs, runtime.settings)
        backend = _backend(runtime, "/tokenize")
        check_vocabulary(inputs, backend)
        prompt = backend.prompt_for(input_type_of(data.prompt_name))
        size = inputs.chars() + len(prompt) * len(inputs.items)
        tokens = await _off_loop(
            size,
            lambda: _tokens(backend.tokenizer, inputs.items, prompt, data.add_special_tokens),
        )
        return respond(request, tokens)

    @post(
        "/decode",
        status_code=200,
        summary="Token ids to text, TEI shape",
        description="The text of each list of token ids (`ids` may be one list); special "
        "tokens are left out unless `skip_special_tokens` is false.",
        responses={
            200: ResponseSpec(list[str], description="OK", generate_examples=False),
            **TEI_METADATA_ERRORS,
        },
    )
    async def decode(
        self, request: Request[Any, Any, Any], data: TeiDecodeRequest
    ) -> Response[bytes]:
        runtime = runtime_of(request)
        ids = data.ids
        sequences: list[list[int]]
        if all(isinstance(item, int) for item in ids):
            sequences = [list(ids)]  # type: ignore[arg-type]  # every item is an int
        elif all(isinstance(item, list) for item in ids):
            check_batch(len(ids), "ids", embed_limits(runtime.settings))
            sequences = list(ids)  # type: ignore[arg-type]  # every item is a list
        else:
            raise InvalidInput(
                "ids mixes token ids and lists of them: send one list of ids, or a list of lists",
                param="ids",
            )
        tokenizer = _backend(runtime, "/decode").tokenizer
        skip = data.skip_special_tokens
        texts = await _off_loop(
            sum(map(len, sequences)),
            lambda: [tokenizer.decode(sequence, skip) for sequence in sequences],
        )
        return respond(request, texts)
