"""Command line: ``smart-embedder serve [--preset offline] [...]`` (also ``python -m app``).

The help texts are plain text (argparse prints them as they are) and name each option's
environment variable, so that ``--help`` and docs/configuration.md read as one reference.

Models already on disk are checked before the port opens, so a missing directory or an
unsupported model fails at once with one clear line and a non-zero exit. Hub models download
after the port opens (``/readyz`` says 503 meanwhile); a failure there exits non-zero too.
A port already taken is refused first, before the engine process spawns.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence

from app.errors import ModelLoadError
from app.lifecycle import EXIT_LOAD, fast_thread_switches, fatal_handler, preflight_or_exit
from app.settings import Settings, SettingsError

EXIT_CONFIG = 2


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve",
        help="start the HTTP server",
        description="Start the HTTP server: models on disk are checked before the port opens, "
        "hub models download after it opens (/readyz says 503 meanwhile).",
        epilog=_EPILOG,
    )
    serve.add_argument("--host", help="address to listen on; default 0.0.0.0 (HOST)")
    serve.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one; default 8000 (PORT)"
    )
    _model_options(serve)
    for role, env in _SERVED_NAME_FLAGS:
        serve.add_argument(
            f"--{role}-served-model-name",
            dest=env.lower(),
            metavar="NAME[,NAME...]",
            help=f"names the {role} model answers to; the first is reported ({env})",
        )
    serve.add_argument(
        "--device",
        help="where the models run: auto (a GPU if there is one), cpu or cuda[:N] (DEVICE)",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="least severe log level written; request texts are logged only at debug (LOG_LEVEL)",
    )


_SERVED_NAME_FLAGS = (
    ("bge-m3", "BGE_M3_SERVED_MODEL_NAME"),
    ("dense", "DENSE_SERVED_MODEL_NAME"),
    ("sparse", "SPARSE_SERVED_MODEL_NAME"),
    ("reranker", "RERANKER_SERVED_MODEL_NAME"),
)


_EPILOG = (
    "Each option also reads the environment variable named in its help; the flag wins. "
    "Every setting, including those without a flag: docs/configuration.md."
)


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        choices=["default", "offline"],
        help="model set. default: BAAI/bge-m3 (dense, sparse and ColBERT) and "
        "BAAI/bge-reranker-v2-m3, from the Hugging Face hub. offline: all-MiniLM-L6-v2 dense "
        "and SPLADE-tiny sparse, shipped in pip packages (the offline extra), no reranker, "
        "no network needed. A model option below replaces that role of the preset (PRESET)",
    )
    parser.add_argument(
        "--bge-m3-model",
        help="bge-m3 hub id or local directory: dense, sparse and ColBERT unless the "
        "options below say otherwise; empty for none (BGE_M3_MODEL)",
    )
    parser.add_argument(
        "--dense-model",
        dest="dense_embedding_model",
        help="dense embedding model, hub id or local directory; empty: the bge-m3 model "
        "(DENSE_EMBEDDING_MODEL)",
    )
    parser.add_argument(
        "--sparse-model",
        dest="sparse_embedding_model",
        help="sparse embedding model (e.g. SPLADE), hub id or local directory; empty: the "
        "bge-m3 model (SPARSE_EMBEDDING_MODEL)",
    )
    parser.add_argument(
        "--reranker-model",
        help="reranker (cross-encoder), hub id or local directory; empty disables /rerank "
        "(RERANKER_MODEL)",
    )


def _download_parser(sub: argparse._SubParsersAction) -> None:
    download = sub.add_parser(
        "download",
        help="fetch the configured (or named) hub models into the cache and verify they load",
        description="Fetch the hub models the server would load (or those named) into the "
        "model cache, then verify them. Models in local directories, such as the offline "
        "preset's weights inside pip packages, are not copied: they are only verified.",
        epilog=_EPILOG,
    )
    download.add_argument(
        "models",
        nargs="*",
        metavar="MODEL[@REVISION]",
        help="hub ids (or directories) to fetch instead of the configured models",
    )
    _model_options(download)
    download.add_argument(
        "--revision",
        dest="model_revision",
        help="hub revision (branch, tag or commit) for the configured models (MODEL_REVISION)",
    )
    download.add_argument(
        "--cache-dir",
        dest="model_cache_dir",
        help="hub cache directory; default: Hugging Face's own (MODEL_CACHE_DIR)",
    )
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


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound (None: it can), tried the way uvicorn binds it."""
    if port == 0:
        return None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    with socket.socket(family, kind, proto) as probe:
        # uvicorn sets SO_REUSEADDR too, so a port in TIME_WAIT is not reported as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; choose another with --port (PORT)"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def serve(settings: Settings) -> int:
    from app.cpu import api_processes, usable_cores
    from app.engine.process import ProcessEngine
    from app.security.keystore import KeyStore
    from app.telemetry.logging import configure_logging

    configure_logging(settings.log_level)
    taken = port_in_use(settings.host, settings.port)
    if taken is not None:
        # Before any model loads: otherwise uvicorn says [Errno 98] deep in the logs, minutes on.
        print(f"smart-embedder: {taken}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        keys = KeyStore.from_settings(settings)
    except SettingsError as exc:
        print(f"smart-embedder: invalid setting {exc}", file=sys.stderr)
        return EXIT_CONFIG
    front_ends = api_processes(settings.api_workers, usable_cores(settings.cpu_threads))
    if front_ends > 1 and not settings.engine_process:
        if settings.api_workers > 1:
            print(
                "smart-embedder: API_WORKERS above 1 needs ENGINE_PROCESS=true "
                "(several API processes share one engine process)",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        front_ends = 1
    if front_ends > 1:
        from app.front_ends import serve_front_ends

        return serve_front_ends(settings, front_ends)
    # The engine process starts first: its imports and model loading then overlap this
    # process's own imports and preflight (seconds, on a pod start).
    engine = ProcessEngine(settings) if settings.engine_process else None
    if engine is not None:
        engine.spawn()

    from app.asgi import create_app
    from app.server import DrainingServer, uvicorn_config

    fast_thread_switches()
    try:
        preflight_or_exit(settings)
    except ModelLoadError as exc:
        if engine is not None:
            engine.kill()
        print(f"smart-embedder: {exc}", file=sys.stderr)
        return EXIT_LOAD

    failure: list[str] = []
    app = create_app(settings, on_fatal=fatal_handler(failure), engine=engine, keys=keys)
    DrainingServer(uvicorn_config(settings, app), app.state.runtime).run()
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smart-embedder",
        description="An embedding and rerank HTTP server (also run as python -m app).",
        epilog=_EPILOG,
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        help="serve or download; smart-embedder COMMAND --help lists its options",
    )
    _serve_parser(sub)
    _download_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
