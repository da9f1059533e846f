"""A Job is one request's work on one model; its WorkItems are the texts (or query-passage
pairs) that the batcher packs, possibly together with other jobs' items, and possibly split
over several batches. Results come back per item and are reassembled in input order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.models.base import Head, TokenizedPair, TokenizedText
from app.scheduler.priorities import DEFAULT_LANE, Lane

P = TypeVar("P", TokenizedText, TokenizedPair)  # what the model consumes


class Job(Generic[P]):
    __slots__ = (
        "cancelled",
        "future",
        "heads",
        "items",
        "lane",
        "on_cancel",
        "remaining",
        "results",
        "yields",
    )

    def __init__(
        self,
        payloads: Sequence[P],
        loop: asyncio.AbstractEventLoop,
        heads: frozenset[Head] = frozenset(),
        lane: Lane = DEFAULT_LANE,
        *,
        yields: bool = False,
    ) -> None:
        """``yields``: after each batch that takes some of its items, the rest wait behind
        everything then queued (a long document's passes never hold short requests back)."""
        now = time.perf_counter()
        self.heads = heads
        self.yields = yields
        #: the request's priority class and tenant
        self.lane = lane
        self.items: list[WorkItem[P]] = [
            WorkItem(self, i, p, len(p.ids), now) for i, p in enumerate(payloads)
        ]
        self.results: list[Any] = [None] * len(self.items)
        self.remaining = len(self.items)
        self.future: asyncio.Future[list[Any]] = loop.create_future()
        self.cancelled = False
        #: called when it is cancelled: withdraw its items from batches sent to the engine
        self.on_cancel: list[Callable[[], None]] = []

    @property
    def done(self) -> bool:
        return self.future.done()

    def deliver(self, index: int, result: Any) -> None:
        if self.future.done():
            return
        self.results[index] = result
        self.remaining -= 1
        if self.remaining == 0:
            self.future.set_result(self.results)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)

    def cancel(self) -> None:
        """The client went away or timed out: its items are skipped, never run."""
        if self.cancelled:
            return
        self.cancelled = True
        if not self.future.done():
            self.future.cancel()
        for withdraw in self.on_cancel:
            withdraw()
        self.on_cancel.clear()


@dataclass(slots=True, eq=False)
class WorkItem(Generic[P]):
    job: Job[P]
    index: int
    payload: P
    cost: int
    enqueued_at: float

    @property
    def live(self) -> bool:
        return not self.job.cancelled and not self.job.done
