"""Traces: a span per HTTP request (Litestar's OpenTelemetry plugin, see ``app.asgi``) and a
span per forward pass (``batch_span``). Spans are exported by OTLP over HTTP only when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; otherwise no provider exists and nothing is made.

Each app owns its ``TracerProvider`` instead of installing a global one, so tests can build
several apps in one process.
"""

from __future__ import annotations

import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from app import __version__

SERVICE_NAME = "smart-embedder"


class Tracing:
    def __init__(self, provider: TracerProvider | None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("smart_embedder", __version__) if provider else None

    @classmethod
    def disabled(cls) -> Tracing:
        return cls(None)

    @classmethod
    def exporting_to(cls, exporter: SpanExporter) -> Tracing:
        provider = TracerProvider(
            resource=Resource.create({"service.name": SERVICE_NAME, "service.version": __version__})
        )
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
        return cls(provider)

    @classmethod
    def from_endpoint(cls, endpoint: str) -> Tracing:
        """OTLP/HTTP to ``endpoint`` (the collector's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT
        is defined: ``/v1/traces`` is appended); disabled when empty."""
        if not endpoint:
            return cls.disabled()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = endpoint.rstrip("/")
        if not url.endswith("/v1/traces"):
            url += "/v1/traces"
        return cls.exporting_to(OTLPSpanExporter(endpoint=url))

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def batch_span(
        self,
        kind: str,
        model: str,
        seconds: float,
        *,
        size: int,
        tokens: int = 0,
        padded_tokens: int = 0,
        error: BaseException | None = None,
    ) -> None:
        """Record one forward pass after the fact: the worker thread measured it, and making
        the span here keeps OpenTelemetry out of the scheduler and the worker."""
        if self._tracer is None:
            return
        end = time.time_ns()
        span = self._tracer.start_span(
            f"batch {kind}",
            start_time=end - int(seconds * 1e9),
            attributes={
                "smart_embedder.queue": kind,
                "smart_embedder.model": model,
                "smart_embedder.batch.size": size,
                "smart_embedder.batch.tokens": tokens,
                "smart_embedder.batch.padded_tokens": padded_tokens,
            },
        )
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end(end_time=end)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
