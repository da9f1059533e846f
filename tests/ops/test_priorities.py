"""Priority classes and fair shares between API keys on a real ``python -m app serve``, over
real HTTP.

Every verdict is about order or counts, never time: the engine process is held (SIGSTOP)
while the test lines requests up, so "still waiting" is a fact, and the order the answers
come back in (one pass thread: passes run one after another) says which batch each request
was cut into. Every batch request has 4 texts of one length and MAX_BATCH_REQUESTS is 4, so
one request is exactly one pass."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import ServerProcess
from tests.ops.load import HANG_GUARD_S, engine_paused, engine_pid, stats_when, wait_until
from tests.ops.metrics_text import value
from tests.ops.secret_volume import SecretVolume

TEAM_A, TEAM_B, APP = "ta-1f0e9d8c7b6a5f4e3d", "tb-2e1d0c9b8a7f6e5d4c", "ap-3d2c1b0a9f8e7d6c5b"
KEYS = f"""\
keys:
  - name: team-a
    key: {TEAM_A}
    priority: batch
  - name: team-b
    key: {TEAM_B}
    priority: batch
  - name: app
    key: {APP}
"""
PASS_ITEMS = 4
BATCH_BOUND = 12
INTERACTIVE_BOUND = 8
STARVATION_PASSES = 2
#: one pass thread; one batch at the engine per pass thread plus one ready behind it
SLOTS = 2
FULL_PASS = {"sentences": ["alpha beta gamma delta"] * PASS_ITEMS}
ONE_TEXT = {"sentences": ["a short query"]}


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


@pytest.fixture(scope="module")
def server(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    volume = SecretVolume(tmp_path_factory.mktemp("secret"))
    volume.write({"keys.yaml": KEYS})
    env = {
        **server_env,
        "API_KEYS_FILE": str(volume.path("keys.yaml")),
        "CPU_INFERENCE_WORKERS": "1",
        "MAX_BATCH_REQUESTS": str(PASS_ITEMS),
        "MAX_QUEUE_SIZE": str(INTERACTIVE_BOUND),
        "BATCH_MAX_QUEUE_SIZE": str(BATCH_BOUND),
        "BATCH_STARVATION_PASSES": str(STARVATION_PASSES),
        # the held requests must not time out while the test looks at them
        "REQUEST_TIMEOUT": "600",
    }
    with ServerProcess(env) as started:
        started.wait_ready(timeout=300)  # a hang guard: start-up is slow on a busy machine
        yield started


def classes(stats: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = stats["priorities"]["classes"]
    return found


def idle(stats: dict[str, Any]) -> bool:
    return all(sum(c["pending"].values()) == 0 for c in classes(stats).values())


class Answers:
    """Requests sent one by one, and the order their answers come back in."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.order: list[str] = []
        self.tasks: list[asyncio.Task[httpx.Response]] = []

    def send(self, label: str, headers: dict[str, str], body: object) -> None:
        async def one() -> httpx.Response:
            response = await self.client.post("/embeddings/", json=body, headers=headers)
            self.order.append(label)
            return response

        self.tasks.append(asyncio.create_task(one()))

    async def all(self) -> list[httpx.Response]:
        return list(await asyncio.wait_for(asyncio.gather(*self.tasks), HANG_GUARD_S))


async def until_stats(client: httpx.AsyncClient, ready: Callable[[dict[str, Any]], bool]) -> None:
    await stats_when(client, ready)


def run(test: Callable[[httpx.AsyncClient], Awaitable[None]], server: ServerProcess) -> None:
    async def go() -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=600, limits=limits) as client:
            await stats_when(client, idle)
            await test(client)
            await stats_when(client, idle)

    asyncio.run(go())


def batch_pending(stats: dict[str, Any]) -> int:
    return int(classes(stats)["batch"]["pending"]["embed"])


def interactive_pending(stats: dict[str, Any]) -> int:
    return int(classes(stats)["interactive"]["pending"]["embed"])


def test_an_interactive_request_is_cut_into_the_next_batch(server: ServerProcess) -> None:
    waiting = 8

    async def test(client: httpx.AsyncClient) -> None:
        answers = Answers(client)
        with engine_paused(engine_pid(server.url)):
            for i in range(waiting):
                answers.send(f"batch{i}", bearer(TEAM_A), FULL_PASS)
            ready = await stats_when(client, lambda s: batch_pending(s) == waiting)
            cut = classes(ready)["interactive"]["queue_wait"]["count"]
            answers.send("query", bearer(APP), ONE_TEXT)
            # its batch is cut (its queue wait recorded) at once, while the batch work queued
            # before it still waits
            held = await stats_when(
                client, lambda s: classes(s)["interactive"]["queue_wait"]["count"] == cut + 1
            )
            now = classes(held)
            assert now["interactive"]["queued_items"]["embed"] == 0
            # On a CPU the express pass runs on a thread of its own (the default), beside
            # the bulk pass, so it takes no batch texts (tests/unit/test_scheduler_priorities
            # has the one-thread case, where it fills with them)
            health = (await client.get("/health")).json()
            assert health["batch"]["express_thread"] is True
            assert now["batch"]["queued_items"]["embed"] == (waiting - SLOTS) * PASS_ITEMS
        responses = await answers.all()
        assert [r.status_code for r in responses] == [200] * (waiting + 1)
        assert responses[-1].headers["x-priority"] == "interactive"
        assert responses[0].headers["x-priority"] == "batch"
        # only the batches already at the engine may finish first; the rest wait for it
        assert answers.order.index("query") <= SLOTS, answers.order

    run(test, server)


def test_batch_work_completes_under_constant_interactive_load(server: ServerProcess) -> None:
    async def test(client: httpx.AsyncClient) -> None:
        answers = Answers(client)
        with engine_paused(engine_pid(server.url)):
            # full passes of interactive work, more than the engine holds: at every cut
            # until the batch request's, queries are waiting, and none has room for it
            for i in range(INTERACTIVE_BOUND):
                answers.send(f"query{i}", bearer(APP), FULL_PASS)
            await until_stats(client, lambda s: interactive_pending(s) == INTERACTIVE_BOUND)
            answers.send("batch", bearer(TEAM_B), ONE_TEXT)
            await until_stats(client, lambda s: batch_pending(s) == 1)
        responses = await answers.all()
        assert {r.status_code for r in responses} == {200}
        before = answers.order.index("batch")
        # the passes already at the engine, then STARVATION_PASSES more that passed it over
        assert before <= SLOTS + STARVATION_PASSES, answers.order
        # ...while queries were still waiting: it did not wait for the load to end
        assert len(answers.order) - 1 - before >= INTERACTIVE_BOUND - SLOTS - STARVATION_PASSES - 1

    run(test, server)


def test_a_key_pinned_to_batch_cannot_raise_itself(server: ServerProcess) -> None:
    async def test(client: httpx.AsyncClient) -> None:
        before = (await client.get("/stats")).json()["priorities"]
        with engine_paused(engine_pid(server.url)):
            asks = [
                client.post(
                    "/embeddings/",
                    json=ONE_TEXT,
                    headers=bearer(TEAM_A, **{"X-Priority": "interactive"}),
                ),
                client.post(
                    "/embeddings/",
                    json={**ONE_TEXT, "priority": "interactive"},
                    headers=bearer(TEAM_A),
                ),
                client.post(
                    "/v1/embeddings",
                    json={"input": "a query"},
                    headers=bearer(TEAM_A, **{"X-Priority": "interactive"}),
                ),
            ]
            tasks = [asyncio.create_task(ask) for ask in asks]
            # all three wait in the batch class: none of them gets interactive service
            held = await stats_when(client, lambda s: batch_pending(s) == len(asks))
            assert interactive_pending(held) == 0
        header, body, openai = await asyncio.gather(*tasks)
        for response in (header, body, openai):
            assert response.status_code == 200
            assert response.headers["x-priority"] == "batch"
        for response in (header, body):
            (warning,) = [w for w in response.json()["warnings"] if w["code"] == "priority_lowered"]
            assert "team-a" in warning["message"] and "batch" in warning["message"]
            assert warning["target"]["field"] == "priority"
        after = (await client.get("/stats")).json()["priorities"]
        assert after["lowered"] - before["lowered"] == 3
        admitted = after["classes"]["batch"]["admitted"]["embed"]
        assert admitted - before["classes"]["batch"]["admitted"]["embed"] == 3
        assert (
            after["classes"]["interactive"]["admitted"]
            == before["classes"]["interactive"]["admitted"]
        )
        # a key that is not pinned may lower itself, and a bad class is a 400 that says so
        lowered = await client.post(
            "/embeddings/", json={**ONE_TEXT, "priority": "batch"}, headers=bearer(APP)
        )
        assert lowered.headers["x-priority"] == "batch"
        assert not [w for w in lowered.json()["warnings"] if w["code"] == "priority_lowered"]
        bad = await client.post(
            "/embeddings/", json=ONE_TEXT, headers=bearer(APP, **{"X-Priority": "urgent"})
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "X-Priority"

    run(test, server)


def test_two_batch_keys_share_passes_within_one_pass(server: ServerProcess) -> None:
    each = (BATCH_BOUND - SLOTS) // 2

    async def test(client: httpx.AsyncClient) -> None:
        answers = Answers(client)
        with engine_paused(engine_pid(server.url)):
            # team-a comes first: SLOTS of its passes are cut at once, `each` wait
            for i in range(each + SLOTS):
                answers.send(f"a{i}", bearer(TEAM_A), FULL_PASS)
            await until_stats(client, lambda s: batch_pending(s) == each + SLOTS)
            for i in range(each):
                answers.send(f"b{i}", bearer(TEAM_B), FULL_PASS)
            await until_stats(client, lambda s: batch_pending(s) == 2 * each + SLOTS)
        responses = await answers.all()
        assert {r.status_code for r in responses} == {200}
        # team-a's first passes were cut before team-b came; from then on they take turns
        assert answers.order[:SLOTS] == [label for label in answers.order if "a" in label][:SLOTS]
        shared = answers.order[SLOTS:]
        for n in range(1, len(shared) + 1):
            a = sum(1 for label in shared[:n] if label.startswith("a"))
            assert abs(a - (n - a)) <= 1, answers.order

    run(test, server)


def test_a_full_class_refuses_only_its_own_requests(server: ServerProcess) -> None:
    async def test(client: httpx.AsyncClient) -> None:
        with engine_paused(engine_pid(server.url)):
            held = [
                asyncio.create_task(
                    client.post("/embeddings/", json=ONE_TEXT, headers=bearer(TEAM_B))
                )
                for _ in range(BATCH_BOUND)
            ]
            await until_stats(client, lambda s: batch_pending(s) == BATCH_BOUND)
            # the batch class is full: its next request is refused before its body is read
            # (the key's class), or by admission (a body that asks for batch)
            by_key = await client.post("/embeddings/", json=ONE_TEXT, headers=bearer(TEAM_A))
            by_body = await client.post(
                "/embeddings/", json={**ONE_TEXT, "priority": "batch"}, headers=bearer(APP)
            )
            # ...and a query is not
            query = asyncio.create_task(
                client.post("/embeddings/", json=ONE_TEXT, headers=bearer(APP))
            )
            await until_stats(client, lambda s: interactive_pending(s) == 1)
            for refused in (by_key, by_body):
                assert refused.status_code == 503
                assert int(refused.headers["retry-after"]) >= 1
                assert "full for batch requests" in refused.json()["error"]["message"]
        assert (await query).status_code == 200
        assert {(await t).status_code for t in held} == {200}
        # and the other way round: a full interactive class leaves batch work its own queue
        with engine_paused(engine_pid(server.url)):
            held = [
                asyncio.create_task(client.post("/embeddings/", json=ONE_TEXT, headers=bearer(APP)))
                for _ in range(INTERACTIVE_BOUND)
            ]
            await until_stats(client, lambda s: interactive_pending(s) == INTERACTIVE_BOUND)
            refused = await client.post("/embeddings/", json=ONE_TEXT, headers=bearer(APP))
            bulk = asyncio.create_task(
                client.post("/embeddings/", json=ONE_TEXT, headers=bearer(TEAM_A))
            )
            await until_stats(client, lambda s: batch_pending(s) == 1)
            assert refused.status_code == 503
        assert (await bulk).status_code == 200
        assert {(await t).status_code for t in held} == {200}
        stats = (await client.get("/stats")).json()
        assert classes(stats)["batch"]["refused"]["embed"] >= 2
        assert classes(stats)["interactive"]["refused"]["embed"] >= 1

    run(test, server)


def test_metrics_by_class_add_up_to_the_requests_sent(server: ServerProcess) -> None:
    queries, bulk = 5, 3

    async def test(client: httpx.AsyncClient) -> None:
        metrics_before = (await client.get("/metrics")).text
        before = classes((await client.get("/stats")).json())
        # one at a time: each request is its own pass, so one queue wait each
        for _ in range(queries):
            assert (
                await client.post("/embeddings/", json=ONE_TEXT, headers=bearer(APP))
            ).status_code == 200
        for _ in range(bulk):
            answer = await client.post(
                "/v1/embeddings",
                json={"input": "a text"},
                headers=bearer(APP, **{"X-Priority": "batch"}),
            )
            assert answer.status_code == 200
        after = classes((await client.get("/stats")).json())
        metrics = wait_until(
            lambda: httpx.get(f"{server.url}/metrics").text,
            lambda text: value(text, "embedding_active_requests") == 0,
            "no request active on /metrics",
        )
        for name, sent in (("interactive", queries), ("batch", bulk)):
            assert after[name]["admitted"]["embed"] - before[name]["admitted"]["embed"] == sent
            waits, waits_before = after[name]["queue_wait"], before[name]["queue_wait"]
            assert waits["count"] - waits_before["count"] == sent
            assert waits["buckets"]["+Inf"] == waits["count"]
            admitted = {"queue": "embed", "priority": name, "outcome": "admitted"}
            assert (
                value(metrics, "smart_embedder_priority_requests_total", **admitted)
                - value(metrics_before, "smart_embedder_priority_requests_total", **admitted)
                == sent
            )
            labels = {"queue": "embed", "priority": name}
            assert (
                value(metrics, "smart_embedder_queue_wait_seconds_count", **labels)
                - value(metrics_before, "smart_embedder_queue_wait_seconds_count", **labels)
                == sent
            )
            assert value(metrics, "smart_embedder_queue_depth", **labels) == 0
            assert after[name]["queue_wait"]["count"] == value(
                metrics, "smart_embedder_queue_wait_seconds_count", **labels
            )

    run(test, server)
