"""Bearer auth (the token from API_TOKEN or from API_TOKEN_FILE, rotated in place), per-client
rate limits with trusted proxies, and the body cap, through the real app (Litestar's
TestClient over ASGI) on the tiny models.

The rate-limit tests run the app's token buckets on a clock the test owns, so a bucket refills
when the test says so and never because a busy machine took a second over a few requests."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.api.guards import rate_limit as ratelimit
from tests.helpers import wait_ready
from tests.ops.load import wait_until
from tests.ops.secret_volume import SecretVolume

TOKEN = "s3cret-token-value"
EMBED = {"sentences": ["a short text"]}
RERANK = {"query": "q", "passages": ["a", "b"]}
OPERATIONS = ["/health", "/livez", "/readyz", "/stats", "/metrics", "/docs", "/openapi.json"]

ClientFactory = Callable[..., TestClient]  # type: ignore[type-arg]


@pytest.fixture(scope="module")
def guarded(make_client: ClientFactory) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with make_client(api_token=TOKEN) as client:
        wait_ready(client)
        yield client


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FakeClock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rate_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock of every app's rate limiter built during the test (``TokenBuckets`` takes
    one; the app builds its buckets with the default, ``time.monotonic``)."""
    clock = FakeClock()
    monkeypatch.setattr(
        ratelimit, "TokenBuckets", functools.partial(ratelimit.TokenBuckets, clock=clock)
    )
    return clock


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "wrong-token", "no-scheme", "basic"],
)
def test_inference_needs_the_bearer_token(
    guarded: TestClient,  # type: ignore[type-arg]
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        for path, body in [("/embeddings/", EMBED), ("/rerank", RERANK)]:
            r = guarded.post(path, json=body, headers=headers)
            assert r.status_code == 401, r.text
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["error"]["type"] == "authentication_error"
    assert TOKEN not in caplog.text


def test_the_right_token_passes(guarded: TestClient) -> None:  # type: ignore[type-arg]
    assert guarded.post("/embeddings/", json=EMBED, headers=bearer()).status_code == 200
    assert guarded.post("/rerank", json=RERANK, headers=bearer()).status_code == 200


def test_operations_routes_are_public(guarded: TestClient) -> None:  # type: ignore[type-arg]
    for path in OPERATIONS:
        assert guarded.get(path).status_code == 200, path


def test_openapi_shows_bearer_on_protected_routes_only(
    guarded: TestClient,  # type: ignore[type-arg]
) -> None:
    doc = guarded.get("/openapi.json").json()
    scheme_name, scheme = next(iter(doc["components"]["securitySchemes"].items()))
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for operation in item.values():
            secured = operation.get("security") == [{scheme_name: []}]
            assert secured == (path not in OPERATIONS), path


def test_burst_then_429_with_retry_after(make_client: ClientFactory, rate_clock: FakeClock) -> None:
    with make_client(rate_limit_requests_per_minute=60, rate_limit_burst_size=3) as client:
        wait_ready(client)
        statuses = [client.post("/rerank", json=RERANK).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        r = client.post("/embeddings/", json=EMBED)
        assert r.status_code == 429
        assert r.headers["retry-after"] == "1"  # one token refills in 1 s at 60 per minute
        assert "rate limit" in r.json()["error"]["message"]
        for path in OPERATIONS:  # never limited, even for a client that is
            assert client.get(path).status_code == 200, path
        rejected = client.get("/stats").json()["rejected_by_endpoint"]
        assert rejected == {"rerank": {"rate_limit": 2}, "embeddings": {"rate_limit": 1}}
        # The refill rate: one more request a second, no more.
        rate_clock.now += 0.5
        assert client.post("/rerank", json=RERANK).status_code == 429
        rate_clock.now += 0.5
        assert client.post("/rerank", json=RERANK).status_code == 200
        assert client.post("/rerank", json=RERANK).status_code == 429


def test_forwarded_for_counts_only_from_trusted_proxies(
    make_client: ClientFactory, rate_clock: FakeClock
) -> None:
    def statuses(client: TestClient, forwarded: str) -> list[int]:  # type: ignore[type-arg]
        headers = {"X-Forwarded-For": forwarded}
        return [client.post("/rerank", json=RERANK, headers=headers).status_code for _ in range(2)]

    limits = {"rate_limit_requests_per_minute": 1, "rate_limit_burst_size": 1}
    # The TestClient's peer address is "testclient".
    with make_client(**limits) as untrusting:
        wait_ready(untrusting)
        assert statuses(untrusting, "10.0.0.1") == [200, 429]
        assert statuses(untrusting, "10.0.0.2") == [429, 429]  # a spoofed header buys nothing
    with make_client(**limits, trusted_proxies="testclient, 192.0.2.0/24") as trusting:
        wait_ready(trusting)
        assert statuses(trusting, "10.0.0.1") == [200, 429]
        assert statuses(trusting, "10.0.0.2") == [200, 429]  # each real client its own bucket
        # the first address that is not a trusted proxy is the client
        assert statuses(trusting, "10.0.0.3, 192.0.2.7") == [200, 429]


def test_oversized_body_is_a_clear_413(make_client: ClientFactory) -> None:
    with make_client(max_request_body_bytes=10_000) as client:
        wait_ready(client)
        r = client.post("/embeddings/", json={"sentences": ["x" * 20_000]})
        assert r.status_code == 413
        assert r.json()["error"]["message"] == (
            "request body is larger than 10000 bytes (MAX_REQUEST_BODY_BYTES)"
        )


def test_the_token_from_a_file_and_its_rotation(
    make_client: ClientFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old, new = "file-token-old-8c2e4a", "file-token-new-1d7b3f"
    volume = SecretVolume(tmp_path / "secret")
    volume.write({"token": f"{old}\n"})  # a Secret made from a file keeps its final newline

    def statuses(client: TestClient) -> dict[str, int]:  # type: ignore[type-arg]
        return {
            name: client.post("/embeddings/", json=EMBED, headers=bearer(token)).status_code
            for name, token in {"old": old, "new": new}.items()
        }

    settings = {"api_token_file": str(volume.path("token")), "api_keys_reload_seconds": 0.05}
    with caplog.at_level(logging.INFO), make_client(**settings) as client:
        wait_ready(client)
        assert statuses(client) == {"old": 200, "new": 401}
        assert client.get("/health").status_code == 200  # operations routes stay open

        # The kubelet swaps the Secret's ..data symlink; the next check loads the new token.
        volume.write({"token": new})
        wait_until(
            lambda: statuses(client),
            lambda seen: seen == {"old": 401, "new": 200},
            "the rotated token file taking effect",
        )

        # An emptied file: one error, a failed reload counted, the token in force stays.
        volume.write({"token": "\n"})
        stats = wait_until(
            lambda: client.get("/stats").json()["keys"],
            lambda keys: keys["reloads"]["failure"] == 1,
            "the empty token file being noticed",
        )
        assert stats["loaded"] == ["api_token"]
        assert stats["reloads"] == {"success": 1, "failure": 1}
        assert statuses(client) == {"old": 401, "new": 200}
        metrics = client.get("/metrics").text
        assert 'smart_embedder_api_keys_reloads_total{result="failure"} 1.0' in metrics
    errors = [r.getMessage() for r in caplog.records if "not reloaded" in r.getMessage()]
    assert errors == [
        f"API_TOKEN_FILE {volume.path('token')} not reloaded, the 1 keys in force stay: "
        "empty: it must hold the token"
    ]
    assert old not in caplog.text and new not in caplog.text
