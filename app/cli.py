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


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="start the HTTP server")
    serve.add_argument("--host", help="bind address (HOST)")
    serve.add_argument("--port", type=int, help="port (PORT)")
    _model_options(serve)
    for role, env in _SERVED_NAME_FLAGS:
        serve.add_argument(
            f"--{role}-served-model-name",
            dest=env.lower(),
            metavar="NAME[,NAME...]",
            help=f"names the {role} model answers to; the first is reported ({env})",
        )
    serve.add_argument("--device", help="auto, cpu or cuda[:N] (DEVICE)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


_SERVED_NAME_FLAGS = (
    ("bge-m3", "BGE_M3_SERVED_MODEL_NAME"),
    ("dense", "DENSE_SERVED_MODEL_NAME"),
    ("sparse", "SPARSE_SERVED_MODEL_NAME"),
    ("reranker", "RERANKER_SERVED_MODEL_NAME"),
)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=["default", "offline"], help="model set (PRESET)")
    parser.add_argument("--bge-m3-model", help="bge-m3 hub id or directory (BGE_M3_MODEL)")
    parser.add_argument("--dense-model", dest="dense_embedding_model", help="DENSE_EMBEDDING_MODEL")
    parser.add_argument(
        "--sparse-model", dest="sparse_embedding_model", help="SPARSE_EMBEDDING_MODEL"
    )
    parser.add_argument("--reranker-model", help="reranker hub id or directory (RERANKER_MODEL)")


def _download_parser(sub: argparse._SubParsersAction) -> None:
    download = sub.add_parser(
        "download",
        help="fetch the configured (or named) models into the cache and verify they load",
    )
    download.add_argument(
        "models", nargs="*", metavar="MODEL[@REVISION]", help="models to fetch instead"
    )
    _model_options(download)
    download.add_argument("--revision", dest="model_revision", help="MODEL_REVISION")
    download.add_argument("--cache-dir", dest="model_cache_dir", help="MODEL_CACHE_DIR")
    download.add_argument(
        "--verify",
        choices=["load", "config", "none"],
        default="load",
        help="load: build each backend on CPU (default); config: config, tokenizer and "
        "weight headers only; none: fetch only",
    )


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
            *(env.lower() for _, env in _SERVED_NAME_FLAGS),
            "model_revision",
            "model_cache_dir",
            "device",
            "log_level",
        )
    }
    return Settings.from_env(**overrides)


def serve(settings: Settings) -> int:
    from app.engine.process import ProcessEngine
    from app.telemetry.logging import configure_logging

    configure_logging(settings.log_level)
    # The engine process starts first: its imports and model loading then overlap this
    # process's own imports and preflight (seconds, on a pod start).
    engine = ProcessEngine(settings) if settings.engine_process else None
    if engine is not None:
        engine.spawn()

    import uvicorn

    from app.asgi import create_app
    from app.models.catalog import preflight
    from app.server import DrainingServer

    # Threads here (the engine's reader and the tokenizer pool; the passes themselves with
    # ENGINE_PROCESS=false) hold the GIL between their C calls; a short switch interval lets
    # the event loop answer (and refuse) requests in ~1 ms instead of ~5 ms slices meanwhile.
    # Measured: burst refusals p99 60-180 ms -> under 50 ms, at ~5% of a tiny model's
    # throughput (real models release the GIL in long kernels and lose nothing).
    sys.setswitchinterval(0.001)
    try:
        pending = preflight(settings)
    except ModelLoadError as exc:
        if engine is not None:
            engine.kill()
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

    app = create_app(settings, on_fatal=on_fatal, engine=engine)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        lifespan="on",
        log_config=None,  # app.telemetry.logging formats every logger
        # X-Forwarded-For is believed only from TRUSTED_PROXIES, by the app (app.api.operations);
        # uvicorn's default would trust it from loopback.
        proxy_headers=False,
    )
    DrainingServer(config, app.state.runtime).run()
    if failure:
        print(f"smart-embedder: {failure[0]}", file=sys.stderr)
        return EXIT_LOAD
    return 0


def download(settings: Settings, models: Sequence[str], verify: str) -> int:
    from app.download import run

    try:
        run(settings, specs=models, verify=verify)  # type: ignore[arg-type]
    except ModelLoadError as exc:
        print(f"smart-embedder: {exc}", file=sys.stderr)
        return EXIT_LOAD
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smart-embedder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _download_parser(sub)
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"smart-embedder: invalid setting {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "serve":
        return serve(settings)
    if args.command == "download":
        return download(settings, args.models, args.verify)
    parser.error(f"unknown command {args.command}")
    return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
