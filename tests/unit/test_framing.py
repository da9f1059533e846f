"""The event loop's reader of the engine's wire (``app/engine/framing.py``) cuts the byte
stream that ``multiprocessing``'s ``Connection`` writes into the same frames, however the
stream is split between reads."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from multiprocessing import Pipe

import pytest
import uvloop

from app.engine.framing import FramedWire, FrameReader, frame_header

#: an empty frame, small ones, and ones over the size Connection writes in two parts (16 KiB)
FRAMES = [b"", b"x", bytes(range(256)) * 3, os.urandom(20_000), os.urandom(300_001), b"end"]


def connection_stream(frames: list[bytes]) -> bytes:
    """The bytes a real ``Connection.send_bytes`` puts on the pipe for these frames."""
    ours, theirs = Pipe(duplex=True)
    raw = socket.socket(fileno=os.dup(theirs.fileno()))
    total = sum(len(frame_header(len(f))) + len(f) for f in frames)
    # written by a thread: a frame larger than the pipe's buffer waits for this reader
    writer = threading.Thread(target=lambda: [ours.send_bytes(f) for f in frames])
    writer.start()
    received = bytearray()
    while len(received) < total:
        received += raw.recv(1 << 20)
    writer.join()
    for end in (raw, ours, theirs):
        end.close()
    return bytes(received)


@pytest.mark.parametrize("chunk", [1, 3, 4, 5, 4096, 65_536, 1 << 30])
def test_frames_come_out_whole_however_the_stream_is_cut(chunk: int) -> None:
    stream = connection_stream(FRAMES)
    reader = FrameReader()
    out: list[bytes] = []
    for start in range(0, len(stream), chunk):
        out += [bytes(frame) for frame in reader.feed(stream[start : start + chunk])]
    assert out == FRAMES


def test_a_long_header_is_read_as_multiprocessing_writes_it() -> None:
    # a frame over 2 GiB gets -1 and an 8-byte length; shown here on a small frame
    stream = b"\xff\xff\xff\xff" + (5).to_bytes(8, "big") + b"hello" + frame_header(2) + b"ok"
    reader = FrameReader()
    out = [bytes(f) for i in range(len(stream)) for f in reader.feed(stream[i : i + 1])]
    assert out == [b"hello", b"ok"]
    assert frame_header(3 << 31)[:4] == b"\xff\xff\xff\xff"


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_the_loop_and_a_connection_talk_over_one_pipe(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    """What the API process writes, the engine's ``Connection`` reads, and the other way, on
    asyncio's own loop and on uvloop's (the server's)."""

    async def talk() -> tuple[list[bytes], bool]:
        ours, theirs = Pipe(duplex=True)
        got: list[bytes] = []
        closed = asyncio.Event()
        loop = asyncio.get_running_loop()
        _, wire = await loop.create_unix_connection(
            lambda: FramedWire(lambda f: got.append(bytes(f)), closed.set),
            sock=socket.socket(fileno=os.dup(ours.fileno())),
        )
        assert isinstance(wire, FramedWire)
        for frame in FRAMES:
            wire.send(frame)
        echoed = await loop.run_in_executor(None, lambda: [theirs.recv_bytes() for _ in FRAMES])

        def echo() -> None:  # as the engine's reader would, off the loop
            for frame in echoed:
                theirs.send_bytes(frame)
            theirs.close()  # the engine's end closes: the loop's end sees it

        await loop.run_in_executor(None, echo)
        await asyncio.wait_for(closed.wait(), 60)
        wire.close()
        ours.close()
        return got, closed.is_set()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        got, closed = runner.run(talk())
    assert got == FRAMES and closed
