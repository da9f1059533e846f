"""A request whose client leaves while its batch waits at the engine never reaches a pass,
with one API process and with two (``API_WORKERS``): the API process withdraws its items
across the process boundary (``app/engine/coalescing.py``). A real server whose engine runs
on the simulated device, one pass at a time."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.testing.sim_device import read_stats, sim_environment
from tests.helpers import ServerProcess
from tests.ops.load import HANG_GUARD_S, engine_paused, engine_pid, wait_until
from tests.ops.metrics_text import value
from tests.ops.test_api_workers import api_processes

EMBED = "/embeddings/"


@pytest.fixture(scope="module", params=[1, 2], ids=["one-api-process", "two-api-processes"])
def sim_server(
    request: pytest.FixtureRequest,
    server_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, Path]]:
    stats = tmp_path_factory.mktemp("sim-device") / "device.json"
    env = {
        **server_env,
        # half a second a pass: the engine reads the frames behind the one that starts it
        # (a few microseconds each) long before the pass ends
        **sim_environment("500,0", stats),
        "CPU_INFERENCE_WORKERS": "1",  # one pass at a time, as on a GPU
        "API_WORKERS": str(request.param),
        "EMBED_CACHE_MB": "0",
        "WARMUP": "false",
    }
    with ServerProcess(env) as server:
        server.wait_ready()
        yield server, stats


def addresses(server: ServerProcess) -> list[str | tuple[str, int]]:
    """Where to reach each API process: its private socket (several), or the port (one)."""
    sockets = [path for _, (_, path) in sorted(api_processes(server).items())]
    return list(sockets) or [("127.0.0.1", server.port)]


def client_for(server: ServerProcess, address: str | tuple[str, int]) -> httpx.AsyncClient:
    if isinstance(address, str):
        transport = httpx.AsyncHTTPTransport(uds=address)
        return httpx.AsyncClient(transport=transport, base_url="http://api", timeout=HANG_GUARD_S)
    return httpx.AsyncClient(base_url=server.url, timeout=HANG_GUARD_S)


def leaving_request(address: str | tuple[str, int], text: str) -> socket.socket:
    """An embedding request sent on a socket of its own, which the caller closes to leave."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.connect(address)
    body = json.dumps({"sentences": [text]}).encode()
    sock.sendall(
        f"POST {EMBED} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


def test_a_client_that_leaves_while_its_batch_waits_at_the_engine_never_reaches_a_pass(
    sim_server: tuple[ServerProcess, Path],
) -> None:
    server, stats = sim_server
    places = addresses(server)
    first, last = places[0], places[-1]
    http = httpx.Client(base_url=server.url, timeout=HANG_GUARD_S)

    def hang_ups() -> float:
        return value(http.get("/metrics").text, "smart_embedder_requests_total", status="499")

    async def scenario() -> list[int]:
        before = read_stats(stats).texts
        hung_up = hang_ups()
        async with client_for(server, first) as a, client_for(server, last) as c:
            with engine_paused(engine_pid(server.url)):
                # the engine reads nothing now: each batch cut meanwhile waits in its wire
                # a rerank leads: another model's batch, which no embedding batch joins, so
                # the leaver's batch waits behind its pass however fast the engine takes it
                rerank = {"query": "q", "passages": ["kept"]}
                kept = [asyncio.ensure_future(a.post("/rerank", json=rerank))]
                await stats_settled(http, pending=1, kind="rerank")
                leaver = leaving_request(first, "a text whose client leaves")
                await stats_settled(http, pending=1)  # cut and sent behind the rerank
                if len(places) > 1:  # and one from the other API process
                    kept.append(asyncio.ensure_future(c.post(EMBED, json={"sentences": ["c"]})))
                    await stats_settled(http, pending=2)
                leaver.close()
                await asyncio.to_thread(
                    wait_until, hang_ups, lambda n: n > hung_up, "the hang-up seen"
                )
            answers = await asyncio.gather(*kept)
            # one more, behind the leaver's batch on its wire: once it is answered, every pass
            # that would have held the leaver's text has run
            answers.append(await a.post(EMBED, json={"sentences": ["last"]}))
        assert [r.status_code for r in answers] == [200] * len(answers)
        # every text that reached a pass was a kept request's
        return [before, read_stats(stats).texts, len(answers)]

    before, after, kept = asyncio.run(scenario())
    assert after - before == kept


async def stats_settled(http: httpx.Client, *, pending: int, kind: str = "embed") -> None:
    """Until ``pending`` requests of ``kind`` ("embed" or "rerank") are admitted and none waits
    to be cut: each is in a batch sent to the (held) engine."""

    def seen() -> tuple[int, int]:
        stats = http.get("/stats").json()
        classes = stats["priorities"]["classes"].values()
        return stats["queue"][f"{kind}_pending"], sum(c["queued_items"][kind] for c in classes)

    await asyncio.to_thread(
        wait_until,
        seen,
        lambda seen: seen[0] >= pending and seen[1] == 0,
        f"{pending} {kind} requests cut into batches",
    )
