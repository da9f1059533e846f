"""The mixed scenario's open-loop query client (app/bench/mixed.py): requests go out when
they are due, whatever the server's speed, and each is timed from when it was due."""

from __future__ import annotations

import asyncio
import random

from aiohttp import web

from app.bench.mixed import drive_open_loop

HELD_S = 0.3


async def _held_server() -> tuple[web.AppRunner, str, list[float], asyncio.Event]:
    """A server that answers nothing until ``release`` is set."""
    arrivals: list[float] = []
    release = asyncio.Event()

    async def answer(request: web.Request) -> web.Response:
        arrivals.append(asyncio.get_running_loop().time())
        await request.read()
        await asyncio.wait_for(release.wait(), 60)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/embeddings/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/embeddings/", arrivals, release


def _expected_count(rate: float, seconds: float) -> int:
    gaps, elapsed, count = random.Random(17), 0.0, 0
    while True:
        elapsed += gaps.expovariate(rate)
        if elapsed >= seconds:
            return count
        count += 1


def test_an_open_loop_sends_on_schedule_and_times_from_when_each_was_due() -> None:
    rate, seconds = 40.0, 1.0

    async def go() -> None:
        runner, url, arrivals, release = await _held_server()
        expected = _expected_count(rate, seconds)

        async def open_gate() -> None:
            while len(arrivals) < expected:
                await asyncio.sleep(0.01)
            await asyncio.sleep(HELD_S)
            release.set()

        gate = asyncio.ensure_future(open_gate())
        try:
            result = await drive_open_loop(url, [b"{}"], 1, seconds, {}, rate)
        finally:
            await gate
            await runner.cleanup()
        # every request due within the run went out while none was answered (a closed loop
        # would have sent one per connection and waited)
        assert len(arrivals) == expected == len(result.latencies_ms) == result.texts
        # each timed to its answer, the time held included
        assert min(result.latencies_ms) >= HELD_S * 1000

    asyncio.run(go())
