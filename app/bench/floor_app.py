"""The floor of the serving stack (issue 22): the least a server on Litestar + uvicorn (uvloop,
httptools, one process) + msgspec can do for ``POST /embeddings/``.

It decodes the native request body into the server's own struct, tokenizes the texts with the
model's tokenizer held as the API process holds it, and answers the server's response shape
with a dense vector of the model's width per text. No model, no queue, no process hop, no
guards or metrics: what our API process spends beyond this is the serving layer's own cost.

``python -m app.bench.floor_app --model-dir DIR --name NAME --port PORT`` (the bench starts it;
``app.bench.floor``). Bench only: no production module imports it.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import uvicorn
from litestar import Litestar, Response, get, post
from litestar.enums import MediaType

from app.api.native.schemas import EmbeddingItem, EmbeddingRequest, EmbeddingResponse, Embeddings
from app.models.tokenization import TextTokenizer
from app.settings import Settings

#: XLM-R's position ids start after the padding index (as app.models.bge_m3 counts them)
_XLMR_POSITION_OFFSET = 2


def load_tokenizer(model_dir: Path, max_length: int) -> TextTokenizer:
    """The model's tokenizer as the API process holds it: built as the engine builds it, then
    through the pickle the engine sends (one shared Rust tokenizer, no truncation or padding)."""
    from transformers import AutoTokenizer  # the engine's way; only the floor's start-up pays

    built = TextTokenizer(AutoTokenizer.from_pretrained(model_dir), max_length)
    loaded: TextTokenizer = pickle.loads(pickle.dumps(built))
    return loaded


def model_shape(model_dir: Path, settings: Settings) -> tuple[int, int]:
    """The dense width and the token limit bge-m3's backend would use for this directory."""
    config = json.loads((model_dir / "config.json").read_text())
    limit = int(config["max_position_embeddings"]) - _XLMR_POSITION_OFFSET
    return int(config["hidden_size"]), min(settings.bge_embed_max_length, limit)


def build_app(model_dir: Path, name: str) -> Litestar:
    width, max_length = model_shape(model_dir, Settings())
    tokenizer = load_tokenizer(model_dir, max_length)
    # Made once: floats of float32 precision, so each costs the JSON encoder what a real one
    # does (zeros would write shorter).
    unit = np.random.default_rng(0).standard_normal(width).astype(np.float32)
    dense: list[float] = (unit / np.linalg.norm(unit)).tolist()
    encoder = msgspec.json.Encoder()

    @post(["/embeddings", "/embeddings/"], status_code=200)
    async def embeddings(data: EmbeddingRequest) -> Response[bytes]:
        started = time.perf_counter()
        tokenized = tokenizer.encode(data.sentences)
        items = [
            EmbeddingItem(
                id=i,
                text=text,
                embeddings=Embeddings(dense=dense if data.return_dense is not False else None),
            )
            for i, (text, _) in enumerate(zip(data.sentences, tokenized, strict=True))
        ]
        body = EmbeddingResponse(
            data=items,
            model_name=name,
            dense_model_name=name,
            sparse_model_name=name,
            colbert_model_name=name,
            processing_time_ms=round((time.perf_counter() - started) * 1000, 3),
            warnings=[],
        )
        return Response(content=encoder.encode(body), media_type=MediaType.JSON)

    @get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "dense_model": name, "dimension": width}

    return Litestar([embeddings, health], openapi_config=None)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m app.bench.floor_app", description=__doc__)
    p.add_argument("--model-dir", type=Path, required=True, help="a bge-m3 directory")
    p.add_argument("--name", required=True, help="the model name the server answers with")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    # uvicorn's choices as the server makes them (app.server.uvicorn_config): loop and http
    # "auto", which pick uvloop and httptools where installed; one process, no access log.
    uvicorn.run(
        build_app(args.model_dir, args.name),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
