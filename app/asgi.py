"""The app factory: ``create_app(settings) -> Litestar``.

Resources (models, worker, scheduler) belong to a ``Runtime`` created here and started by the
lifespan; routes reach it through ``app.state.runtime``. Tests build the app with their own
settings (and may hand in already-loaded models) instead of patching the environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from app import __version__
from app.api.cohere.embed import CohereEmbedController
from app.api.cohere.rerank import RerankCompatController
from app.api.common.errors import EXCEPTION_HANDLERS
from app.api.guards.layer import operations_layer
from app.api.native.hybrid import HybridController
from app.api.native.routes import NativeController
from app.api.openai.routes import OpenAIController
from app.api.openapi.bodies import document_request_bodies
from app.api.openapi.examples import document_request_examples
from app.api.openapi.parameters import document_path_parameters
from app.api.ops.api_reference import assets_router, swagger_plugin
from app.api.ops.routes import OpsController
from app.api.tei.embed import TeiEmbedController
from app.api.tei.rerank import TeiRerankController
from app.api.tei.root import TeiRootController
from app.api.tei.tokens import TeiTokensController
from app.engine.process import ProcessEngine
from app.models.catalog import ModelSet
from app.runtime import Runtime
from app.runtime.gauges import watch_runtime
from app.security.keystore import KeyStore
from app.settings import Settings
from app.telemetry.recorder import Recorder
from app.telemetry.tracing import Tracing

log = logging.getLogger("smart_embedder")


def create_app(
    settings: Settings | None = None,
    *,
    models: ModelSet | None = None,
    on_fatal: Callable[[str], None] | None = None,
    engine: ProcessEngine | None = None,
    keys: KeyStore | None = None,
) -> Litestar:
    """``engine``: an engine process already spawned for these settings (``serve`` starts it
    before anything else); without one, the lifespan starts it, or, when ``models`` are
    handed in, runs them inline. ``keys``: the API keys already read (``serve`` reads them
    before the engine spawns); without them they are read here, and a bad API_KEYS_FILE
    raises ``SettingsError``."""
    settings = settings or Settings.from_env()
    if keys is None:
        keys = KeyStore.from_settings(settings)
    recorder = Recorder(tracing=Tracing.from_endpoint(settings.otel_exporter_otlp_endpoint))
    runtime = Runtime(settings=settings, on_fatal=on_fatal, recorder=recorder, engine=engine)
    watch_runtime(recorder.metrics.sources, runtime)
    operations = operations_layer(runtime, keys)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Models load in the background so /livez and /readyz answer (503) meanwhile.
        loading = asyncio.create_task(runtime.start(preloaded=models), name="model-loading")
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
                with suppress(asyncio.CancelledError):
                    await loading
            try:
                await runtime.shutdown()
            except asyncio.CancelledError:
                # uvicorn cancels a shutdown that outlives its graceful timeout: one line
                # says so, where a traceback would look like a crash.
                log.warning("shutdown cut short before admitted requests finished")
            finally:
                recorder.close()

    return Litestar(
        route_handlers=[
            NativeController,
            HybridController,
            OpsController,
            OpenAIController,
            RerankCompatController,
            CohereEmbedController,
            TeiEmbedController,
            TeiRerankController,
            TeiTokensController,
            TeiRootController,
            *operations.route_handlers,
            assets_router(),
        ],
        middleware=operations.middleware,
        guards=operations.guards,
        plugins=operations.plugins,
        on_startup=[
            document_request_bodies,
            document_path_parameters,
            document_request_examples,
            *operations.on_startup,
        ],
        on_shutdown=operations.on_shutdown,
        lifespan=[lifespan],
        state=State({"runtime": runtime}),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_request_body_bytes,
        openapi_config=OpenAPIConfig(
            title="smart-embedder",
            version=__version__,
            description=(
                "Dense, sparse and ColBERT embeddings (bge-m3, Qwen3) and reranking, "
                "with the original smart-embedder API and OpenAI, Cohere and Hugging Face TEI "
                "compatible routes."
            ),
            path="/docs",
            render_plugins=[swagger_plugin()],
        ),
        logging_config=None,
        debug=False,
    )
