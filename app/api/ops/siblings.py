"""What the other API processes of this pod say (``API_WORKERS`` above 1): ``/metrics`` and
``/stats`` ask each sibling for its own figures over its private Unix socket and add them to
their own, so whichever process a scrape reaches answers for the whole pod.

A sibling answers with its own figures only when the request says so (``LOCAL_HEADER``), so
no request is passed on twice. One that does not answer in time (it is exiting) is left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from app.runtime import Runtime

log = logging.getLogger("smart_embedder.api")

LOCAL_HEADER = "x-smart-embedder-scope"
LOCAL_VALUE = "process"
_TIMEOUT_SECONDS = 5.0


def wants_whole_pod(runtime: Runtime, headers: Mapping[str, str]) -> bool:
    return bool(runtime.siblings) and headers.get(LOCAL_HEADER) != LOCAL_VALUE


async def ask_siblings(runtime: Runtime, path: str) -> list[bytes]:
    """Each sibling's own body for ``GET path``, from those that answered."""
    answers = await asyncio.gather(
        *(_get(socket_path, path) for socket_path in runtime.siblings), return_exceptions=True
    )
    bodies = []
    for socket_path, answer in zip(runtime.siblings, answers, strict=True):
        if isinstance(answer, bytes):
            bodies.append(answer)
        else:
            log.warning("API process at %s did not answer %s: %s", socket_path, path, answer)
    return bodies


async def _get(socket_path: str, path: str) -> bytes:
    async with asyncio.timeout(_TIMEOUT_SECONDS):
        reader, writer = await asyncio.open_unix_connection(socket_path)
        try:
            # HTTP/1.0: the answer is the rest of the stream, never chunked.
            request = f"GET {path} HTTP/1.0\r\nHost: localhost\r\n{LOCAL_HEADER}: {LOCAL_VALUE}\r\n"
            writer.write(request.encode() + b"\r\n")
            response = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    if status_line.split(b" ")[1:2] != [b"200"]:
        raise RuntimeError(status_line.decode(errors="replace"))
    return body
