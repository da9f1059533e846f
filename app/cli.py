"""Command line: ``smart-embedder serve [--preset offline] [...]`` (also ``python -m app``).

Models already on disk are checked before the port opens, so a missing directory or an
unsupported model fails at once with one clear line and a non-zero exit. Hub models download
after the port opens (``/readyz`` says 503 meanwhile); a failure there exits non-zero too.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence

from app.errors import ModelLoadError
from app.settings import Settings, SettingsError

EXIT_CONFIG = 2
EXIT_LOAD = 3


def _serve_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="start the HTTP server")
    serve.add_argument("--host", help="bind address (HOST)")
    serve.add_argument("--port", type=int, help="port (PORT)")
    serve.add_argument("--preset", choices=["default", "offline"], help="model set (PRESET)")
    serve.add_argument("--bge-m3-model", help="bge-m3 hub id or directory (BGE_M3_MODEL)")
    serve.add_argument("--dense-model", dest="dense_embedding_model", help="DENSE_EMBEDDING_MODEL")
    serve.add_argument(
        "--sparse-model", dest="sparse_embedding_model", help="SPARSE_EMBEDDING_MODEL"
    )
    serve.add_argument("--reranker-model", help="reranker hub id or directory (RERANKER_MODEL)")
    serve.add_argument("--device", help="auto, cpu or cuda[:N] (DEVICE)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        name: getattr(args, name, None)
        for name in (
            "host",
            "port",
            "preset",
            "bge_m3_model",
            "dense_embedding_model",
            "sparse_embedding_model",
            "reranker_model",
            "device",
            "log_level",
        )
    }
    return Settings.from_env(**overrides)


def serve(settings: Settings) -> int:
    import uvicorn

    from app.asgi import create_app
    from app.models.catalog import preflight

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("transformers", "huggingface_hub", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        pending = preflight(settings)
    except ModelLoadError as exc:
        print(f"smart-embedder: {exc}", file=sys.stderr)
        return EXIT_LOAD
    if pending:
        logging.getLogger("smart_embedder").info(
            "will download from the hub after start: %s", ", ".join(pending)
        )

    failure: list[str] = []

    def on_fatal(message: str) -> None:
        failure.append(message)
        os.kill(os.getpid(), signal.SIGTERM)

    app = create_app(settings, on_fatal=on_fatal)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        lifespan="on",
    )
    uvicorn.Server(config).run()
    if failure:
        print(f"smart-embedder: {failure[0]}", file=sys.stderr)
        return EXIT_LOAD
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smart-embedder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"smart-embedder: invalid setting {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "serve":
        return serve(settings)
    parser.error(f"unknown command {args.command}")
    return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
