"""Named API keys (API_KEYS_FILE) on a real ``python -m app serve``, over real HTTP: each key's
own quota under concurrent load, its in-flight cap, its routes, rotation by a kubelet-style
symlink swap without a restart, a broken file that keeps the keys in force, and no key text
in the logs or on /metrics.

The rate limits here refill one request a minute, so what a key gets is its burst, plus at
most one request per minute the test took (counted from the test's own clock): the verdict
holds on a machine of any speed. The in-flight cap is held by pausing the engine process."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.guards.keys import SPAN_ATTRIBUTE
from tests.helpers import ServerProcess
from tests.ops.load import HANG_GUARD_S, engine_paused, engine_pid, stats_when, wait_until
from tests.ops.otlp_sink import OtlpSink
from tests.ops.secret_volume import SecretVolume

INDEXER, NOTEBOOK, QUERY, BATCH = (
    "ix-4c1d7e0b9a2f48e6a1",
    "nb-93b5f2c6d8e14a70b2",
    "qy-0e6a4d1c7b3f4982c3",
    "bt-5a7c9e1f3b2d4068d4",
)
EMBED = {"sentences": ["a short text"]}
KEYS = f"""\
keys:
  - name: indexer
    key: {INDEXER}
    requests_per_minute: 1
    burst: 40
  - name: notebook
    key: {NOTEBOOK}
    requests_per_minute: 1
    burst: 3
  - name: query
    key: {QUERY}
    requests_per_minute: 0
    routes: ["/v1/embeddings", "/v1/models*"]
  - name: batch
    key: {BATCH}
    requests_per_minute: 0
    max_concurrent: 2
"""
ALL_KEYS = (INDEXER, NOTEBOOK, QUERY, BATCH)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def keyed_env(volume: SecretVolume) -> dict[str, str]:
    # per client: one request a minute, so that a named key visibly escapes it
    return {
        "API_KEYS_FILE": str(volume.path("keys.yaml")),
        "API_KEYS_RELOAD_SECONDS": "0.5",
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "1",
        "RATE_LIMIT_BURST_SIZE": "1",
    }


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    collector = OtlpSink()
    yield collector
    collector.close()


@pytest.fixture(scope="module")
def server(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, sink: OtlpSink
) -> Iterator[ServerProcess]:
    volume = SecretVolume(tmp_path_factory.mktemp("secret"))
    volume.write({"keys.yaml": KEYS})
    env = {**server_env, **keyed_env(volume), "OTEL_EXPORTER_OTLP_ENDPOINT": sink.url}
    with ServerProcess(env) as started:
        started.wait_ready()
        yield started


def usage(stats: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = stats["keys"]["usage"].get(name, {})
    return found


def test_each_key_gets_its_own_quota_under_concurrent_load(server: ServerProcess) -> None:
    async def load() -> tuple[list[httpx.Response], list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=server.url, timeout=HANG_GUARD_S) as client:
            started = time.monotonic()
            requests = [
                client.post("/embeddings/", json=EMBED, headers=bearer(key))
                for _ in range(12)
                for key in (NOTEBOOK, INDEXER)
            ]
            answers = await asyncio.gather(*requests)
            took = time.monotonic() - started
        return list(answers[0::2]), list(answers[1::2]), took

    notebook, indexer, took = asyncio.run(load())
    # the indexer's 12 are all inside its burst of 40, whatever the notebook did meanwhile
    assert [r.status_code for r in indexer] == [200] * 12
    ok = [r for r in notebook if r.status_code == 200]
    refused = [r for r in notebook if r.status_code != 200]
    assert 3 <= len(ok) <= 3 + math.floor(took / 60)
    assert {r.status_code for r in refused} == {429}
    for r in refused:
        assert int(r.headers["retry-after"]) >= 1
        assert (
            "API key 'notebook': 3 requests at once, 1 per minute" in r.json()["error"]["message"]
        )
    stats = httpx.get(f"{server.url}/stats").json()
    assert usage(stats, "notebook")["rejected"] == {"rate_limit": len(refused)}
    assert usage(stats, "notebook")["statuses"]["429"] == len(refused)
    assert usage(stats, "indexer")["statuses"]["200"] >= 12
    assert usage(stats, "indexer")["texts"] >= 12 and usage(stats, "indexer")["tokens"] > 12


def test_traffic_without_a_valid_key_keeps_the_per_client_limit(server: ServerProcess) -> None:
    # the client's bucket holds one request: the first bad key is told 401, the rest 429,
    # with a key or none; a named key from the same address is not held to it
    started = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=HANG_GUARD_S) as client:
        statuses = [
            client.post("/embeddings/", json=EMBED, headers=headers).status_code
            for headers in (bearer("not-a-key"), bearer("not-a-key"), {}, bearer("other"))
        ]
        assert client.post("/embeddings/", json=EMBED, headers=bearer(INDEXER)).status_code == 200
    took = time.monotonic() - started
    # its one token, then one more per minute the test took
    assert statuses[0] == 401
    assert 1 <= statuses.count(401) <= 1 + math.floor(took / 60)
    assert set(statuses) <= {401, 429}
    rejected = usage(httpx.get(f"{server.url}/stats").json(), "anonymous")["rejected"]
    assert rejected["rate_limit"] >= statuses.count(429) >= 1


def test_routes_allow_list(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=HANG_GUARD_S, headers=bearer(QUERY)) as client:
        assert client.post("/v1/embeddings", json={"input": "hello"}).status_code == 200
        assert client.get("/v1/models").status_code == 200
        for path, body in [("/embeddings/", EMBED), ("/rerank", {"query": "q", "passages": ["p"]})]:
            r = client.post(path, json=body)
            assert r.status_code == 403, r.text
            assert r.json()["error"]["type"] == "permission_error"
            assert r.json()["error"]["message"] == (
                f"API key 'query' may not call {path.rstrip('/')}; its routes are /v1/embeddings, "
                "/v1/models* (API_KEYS_FILE)"
            )
        r = client.post("/embed", json={"inputs": "hello"})  # TEI's route: TEI's error body
        assert r.status_code == 403 and r.json()["error_type"] == "Unauthorized"
        assert client.get("/health").status_code == 200  # operations routes stay open
    rejected = usage(httpx.get(f"{server.url}/stats").json(), "query")["rejected"]
    assert rejected == {"route_not_allowed": 3}


def test_the_in_flight_cap(server: ServerProcess) -> None:
    async def hold() -> tuple[list[int], httpx.Response, dict[str, Any]]:
        headers = bearer(BATCH)
        async with httpx.AsyncClient(
            base_url=server.url, timeout=HANG_GUARD_S, headers=headers
        ) as client:
            with engine_paused(engine_pid(server.url)):
                held = [
                    asyncio.create_task(client.post("/embeddings/", json=EMBED)) for _ in range(2)
                ]
                stats = await stats_when(client, lambda s: usage(s, "batch").get("in_flight") == 2)
                third = await client.post("/embeddings/", json=EMBED)
            statuses = [r.status_code for r in await asyncio.gather(*held)]
            after = await client.post("/embeddings/", json=EMBED)
            assert after.status_code == 200  # the slots came back
        return statuses, third, stats

    statuses, third, stats = asyncio.run(hold())
    assert statuses == [200, 200]
    assert third.status_code == 429
    assert third.headers["retry-after"] == "1"
    assert third.json()["error"]["message"] == (
        "API key 'batch' already has 2 requests in flight, its max_concurrent; "
        "retry when one has finished"
    )
    assert stats["keys"]["usage"]["batch"]["in_flight"] == 2
    final = httpx.get(f"{server.url}/stats").json()
    assert usage(final, "batch")["in_flight"] == 0
    assert usage(final, "batch")["rejected"] == {"max_concurrent": 1}


def test_no_key_text_in_logs_metrics_or_traces(server: ServerProcess, sink: OtlpSink) -> None:
    for key in ALL_KEYS:
        httpx.post(f"{server.url}/v1/embeddings", json={"input": "x"}, headers=bearer(key))
    # the request spans carry the key's name (the batch exports when its spans end)
    wait_until(
        lambda: {a.get(SPAN_ATTRIBUTE) for a in sink.attributes},
        lambda names: {"indexer", "notebook", "query", "batch"} <= names,
        "spans naming each key",
    )
    for body in sink.bodies:
        assert not any(key.encode() in body for key in ALL_KEYS)
    metrics = httpx.get(f"{server.url}/metrics").text
    log = server.log()
    for key in ALL_KEYS:
        assert key not in metrics
        assert key not in log
    for name in ("indexer", "notebook", "query", "batch"):
        assert f'smart_embedder_key_requests_total{{key="{name}",route="openai_embeddings"' in (
            metrics
        )
    assert "indexer, notebook, query, batch" in log  # the start-up line names them
    assert "smart_embedder_api_keys 4.0" in metrics


def _statuses(url: str, keys: dict[str, str]) -> dict[str, int]:
    return {
        name: httpx.post(f"{url}/embeddings/", json=EMBED, headers=bearer(key)).status_code
        for name, key in keys.items()
    }


def test_rotation_by_symlink_swap_and_a_broken_file(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    old, new = "rot-old-6b1e3f5a7c9d", "rot-new-2d4f6a8c0e1b"
    volume = SecretVolume(tmp_path / "secret")
    volume.write({"keys.yaml": f"keys: [{{name: team-a, key: {old}}}]\n"})
    # no per-client limit: the polls below with a key not (or no longer) valid must not use
    # up a budget that would turn their 401s into 429s
    env = {**server_env, **keyed_env(volume), "RATE_LIMIT_REQUESTS_PER_MINUTE": "0"}
    with ServerProcess(env) as server:
        server.wait_ready()
        pid = server.proc.pid
        keys = {"old": old, "new": new}
        assert _statuses(server.url, keys) == {"old": 200, "new": 401}

        # The team's key is replaced, a second team added with a limit of its own.
        volume.write(
            {
                "keys.yaml": f"keys:\n  - {{name: team-a, key: {new}}}\n"
                f"  - {{name: team-b, key: {old}x, requests_per_minute: 1, burst: 1}}\n"
            }
        )
        seen = wait_until(
            lambda: _statuses(server.url, keys),
            lambda s: s == {"old": 401, "new": 200},
            "the rotated key file taking effect",
        )
        assert seen == {"old": 401, "new": 200}
        assert _statuses(server.url, {"b": f"{old}x"}) == {"b": 200}
        assert _statuses(server.url, {"b": f"{old}x"}) == {"b": 429}  # its new limit applies

        # A file that does not parse: one error, a failed reload counted, the keys stay.
        volume.write({"keys.yaml": f"keys:\n  - {{name: team-a, key: [{new}\n"})
        stats = wait_until(
            lambda: httpx.get(f"{server.url}/stats").json(),
            lambda s: s["keys"]["reloads"]["failure"] == 1,
            "the broken file being noticed",
        )
        assert stats["keys"]["loaded"] == ["team-a", "team-b"]
        assert stats["keys"]["reloads"] == {"success": 1, "failure": 1}
        assert _statuses(server.url, keys) == {"old": 401, "new": 200}
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'smart_embedder_api_keys_reloads_total{result="failure"} 1.0' in metrics
        log = server.log()
        errors = [line for line in log.splitlines() if "not reloaded" in line]
        assert len(errors) == 1, errors
        assert "the 2 keys in force stay: not valid YAML: line 3" in errors[0]
        assert old not in log and new not in log
        assert server.proc.pid == pid and server.proc.poll() is None  # never restarted
