"""The engine's wire as the API process's event loop reads and writes it.

The frames are ``multiprocessing.connection``'s, so the engine process keeps its blocking
``Connection``: a 4-byte big-endian signed length, or -1 and an 8-byte length for a frame
over 2 GiB, then the frame. On the API side an asyncio transport over the pipe's socket
writes a frame without blocking the loop (it buffers what the socket does not take at once)
and hands each frame to the loop as it arrives: no reader thread, and no cross-thread wake-up
per batch.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import cast

_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!iQ")


def frame_header(size: int) -> bytes:
    return _SHORT.pack(size) if size <= 0x7FFFFFFF else _LONG.pack(-1, size)


class FrameReader:
    """Cuts a byte stream into frames. A frame that arrives whole in one read is handed on as
    a view of that read; one spread over several reads is gathered into a buffer of its size."""

    def __init__(self) -> None:
        self._head = b""  # a header cut between two reads
        self._frame: bytearray | None = None
        self._filled = 0

    def feed(self, data: bytes) -> list[memoryview | bytearray]:
        frames: list[memoryview | bytearray] = []
        view = memoryview(data)
        if self._frame is not None:
            take = min(len(view), len(self._frame) - self._filled)
            self._frame[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled < len(self._frame):
                return frames
            frames.append(self._frame)
            self._frame = None
        if self._head:
            view = memoryview(self._head + bytes(view))
            self._head = b""
        while len(view):
            start = _SHORT.size
            if len(view) < start:
                self._head = bytes(view)
                break
            (size,) = _SHORT.unpack_from(view)
            if size == -1:
                start = _LONG.size
                if len(view) < start:
                    self._head = bytes(view)
                    break
                (_, size) = _LONG.unpack_from(view)
            end = start + size
            if len(view) >= end:
                frames.append(view[start:end])
                view = view[end:]
                continue
            self._frame = bytearray(size)
            rest = view[start:]
            self._frame[: len(rest)] = rest
            self._filled = len(rest)
            break
        return frames


class FramedWire(asyncio.Protocol):
    """One end of the engine's wire on the event loop."""

    def __init__(
        self, on_frame: Callable[[memoryview | bytearray], None], on_closed: Callable[[], None]
    ) -> None:
        self._on_frame = on_frame
        self._on_closed = on_closed
        self._reader = FrameReader()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do the asyncio.Transport interface without subclassing it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        for frame in self._reader.feed(data):
            self._on_frame(frame)

    def eof_received(self) -> bool:
        return False  # close our end too: the engine is gone or done

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_closed()

    def send(self, frame: bytes) -> None:
        """Queue a frame; nothing if the wire has closed (the engine's end is reported by
        ``on_closed``)."""
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.writelines((frame_header(len(frame)), frame))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
