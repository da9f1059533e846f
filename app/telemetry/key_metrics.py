"""The per-API-key series: requests, texts, tokens and refusals by key name, requests in
flight, and the key file's reloads. Read at scrape time from the recorder's tallies and the
key store, like the other observable series. The label is the key's ``name``, never the key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

RELOAD_RESULTS = ("success", "failure")


class KeySources:
    def __init__(self) -> None:
        #: (key, endpoint, status) -> requests answered
        self.requests: Callable[[], Counter[tuple[str, str, int]]] = Counter
        #: key -> texts embedded or pairs scored; key -> tokens run
        self.texts: Callable[[], Counter[str]] = Counter
        self.tokens: Callable[[], Counter[str]] = Counter
        #: (key, reason) -> requests refused
        self.rejections: Callable[[], Counter[tuple[str, str]]] = Counter
        #: key -> requests in flight now (named keys with limits)
        self.in_flight: Callable[[], Counter[str]] = Counter
        #: "success" / "failure" -> reloads of API_KEYS_FILE
        self.reloads: Callable[[], Counter[str]] = Counter
        #: names of the keys in force
        self.names: Callable[[], list[str]] = list


def register_key_instruments(meter: Meter, sources: KeySources) -> None:
    def observe(
        source: str, labels: tuple[str, ...]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        # looked up at scrape time: the recorder and the gate fill the sources in afterwards
        def callback(_options: CallbackOptions) -> Iterable[Observation]:
            observations = []
            read: Callable[[], Counter[Any]] = getattr(sources, source)
            for values, n in read().items():
                row = values if isinstance(values, tuple) else (values,)
                observations.append(Observation(n, dict(zip(labels, map(str, row), strict=True))))
            return observations

        return callback

    counter, gauge = meter.create_observable_counter, meter.create_observable_gauge
    counter(
        "smart_embedder_key_requests_total",
        callbacks=[observe("requests", ("key", "route", "status"))],
        description="Requests answered, by API key name, route (endpoint) and HTTP status; "
        "key=anonymous: without a valid key.",
    )
    counter(
        "smart_embedder_key_texts_total",
        callbacks=[observe("texts", ("key",))],
        description="Texts embedded and pairs scored, by API key name.",
    )
    counter(
        "smart_embedder_key_tokens_total",
        callbacks=[observe("tokens", ("key",))],
        description="Tokens the models ran on (after truncation), by API key name.",
    )
    counter(
        "smart_embedder_key_requests_rejected_total",
        callbacks=[observe("rejections", ("key", "reason"))],
        description="Requests refused, by API key name and reason (unauthenticated, "
        "route_not_allowed, rate_limit, max_concurrent, backpressure, not_ready).",
    )
    meter.create_observable_up_down_counter(
        "smart_embedder_key_requests_in_flight",
        callbacks=[observe("in_flight", ("key",))],
        description="Requests in flight, by API key name (keys of API_KEYS_FILE).",
    )

    def reloads(_options: CallbackOptions) -> Iterable[Observation]:
        seen = sources.reloads()
        return [Observation(seen[result], {"result": result}) for result in RELOAD_RESULTS]

    counter(
        "smart_embedder_api_keys_reloads_total",
        callbacks=[reloads],
        description="Reloads of API_KEYS_FILE after start-up, by result; on failure the keys "
        "in force stay.",
    )
    gauge(
        "smart_embedder_api_keys",
        callbacks=[lambda _options: [Observation(len(sources.names()))]],
        description="API keys in force (API_KEYS_FILE's and API_TOKEN's).",
    )
