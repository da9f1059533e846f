"""Named keys' own buckets beside API_TOKEN and the per-client limit, through the real app
(Litestar's TestClient) on a clock the test owns: a bucket refills when the test says so."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.api.guards import layer as operations
from app.api.guards import rate_limit as ratelimit
from app.security.quotas import KeyQuotas
from tests.helpers import wait_ready

EMBED = {"sentences": ["a short text"]}
LEGACY = "legacy-token-6f0c"
KEYS = """\
keys:
  - name: fast
    key: fast-key-91ab
    requests_per_minute: 60
    burst: 2
  - name: plain
    key: plain-key-27cd
"""

ClientFactory = Callable[..., TestClient]  # type: ignore[type-arg]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock of the per-client buckets and of every key's bucket built in the test."""
    fake = FakeClock()
    monkeypatch.setattr(
        ratelimit, "TokenBuckets", functools.partial(ratelimit.TokenBuckets, clock=fake)
    )
    monkeypatch.setattr(operations, "KeyQuotas", functools.partial(KeyQuotas, clock=fake))
    return fake


def test_named_keys_have_their_own_buckets_beside_api_token(
    make_client: ClientFactory, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(KEYS)
    settings = {
        "api_keys_file": str(path),
        "api_token": LEGACY,
        "rate_limit_requests_per_minute": 60,
        "rate_limit_burst_size": 1,
    }
    with make_client(**settings) as client:
        wait_ready(client)

        def post(key: str) -> int:
            headers = {"Authorization": f"Bearer {key}"}
            return int(client.post("/embeddings/", json=EMBED, headers=headers).status_code)

        assert [post("fast-key-91ab") for _ in range(3)] == [200, 200, 429]
        assert [post("plain-key-27cd") for _ in range(2)] == [200, 429]  # the global 60 / 1
        # API_TOKEN's key keeps the per-client bucket, untouched by the named keys' requests
        assert [post(LEGACY) for _ in range(2)] == [200, 429]
        assert post("wrong") == 429  # without a valid key: the same client's bucket
        clock.now += 1.0  # one token for each bucket
        assert post("wrong") == 401
        assert [post("fast-key-91ab") for _ in range(2)] == [200, 429]
        r = client.post(
            "/embeddings/", json=EMBED, headers={"Authorization": "Bearer plain-key-27cd"}
        )
        assert r.status_code == 200
        r = client.post(
            "/embeddings/", json=EMBED, headers={"Authorization": "Bearer plain-key-27cd"}
        )
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert r.json()["error"]["message"] == (
            "rate limit exceeded for API key 'plain': 1 requests at once, 60 per minute; "
            "retry in 1s"
        )
        keys = client.get("/stats").json()["keys"]
        assert keys["loaded"] == ["api_token", "fast", "plain"]
        assert keys["reloads"] == {"success": 0, "failure": 0}
        usage = keys["usage"]
        assert usage["fast"]["statuses"] == {"200": 3, "429": 2}
        assert usage["fast"]["rejected"] == {"rate_limit": 2}
        assert usage["fast"]["texts"] == 3 and usage["fast"]["tokens"] > 3
        assert usage["api_token"]["statuses"] == {"200": 1, "429": 1}
        assert usage["anonymous"]["statuses"] == {"401": 1, "429": 1}
        assert usage["anonymous"]["rejected"] == {"rate_limit": 1, "unauthenticated": 1}
        assert all(u["in_flight"] == 0 for u in usage.values())
        doc = client.get("/openapi.json").json()
        assert "403" in doc["paths"]["/embeddings"]["post"]["responses"]


def test_without_auth_everything_is_anonymous(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.post("/embeddings/", json=EMBED).status_code == 200
    keys = client.get("/stats").json()["keys"]
    assert keys["loaded"] == []
    assert set(keys["usage"]) == {"anonymous"}
    assert keys["usage"]["anonymous"]["statuses"]["200"] >= 1


def test_keyless_traffic_is_limited_per_forwarded_client(
    make_client: ClientFactory, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(KEYS)
    settings = {
        "api_keys_file": str(path),
        "rate_limit_requests_per_minute": 1,
        "rate_limit_burst_size": 1,
        "trusted_proxies": "testclient",  # the TestClient's peer address
    }
    with make_client(**settings) as client:
        wait_ready(client)

        def post(forwarded: str, key: str = "wrong") -> int:
            headers = {"X-Forwarded-For": forwarded, "Authorization": f"Bearer {key}"}
            return int(client.post("/embeddings/", json=EMBED, headers=headers).status_code)

        assert [post("10.0.0.1") for _ in range(2)] == [401, 429]
        assert [post("10.0.0.2") for _ in range(2)] == [401, 429]  # each its own bucket
        # a named key behind the same proxy and client is held to its own bucket only
        assert [post("10.0.0.1", "fast-key-91ab") for _ in range(3)] == [200, 200, 429]
