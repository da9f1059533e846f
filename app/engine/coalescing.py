"""Passes cut from the batches of every API process (``API_WORKERS``), and withdrawals.

Each API process cuts batches from its own queues, so with N of them each batch holds about
a N-th of the work waiting in the pod. On a device that runs one pass at a time (a GPU), the
batches that wait at the engine for the pass in flight are joined when a pass starts: the
first one waiting leads, and the others for the same model (and of the same urgency: an
express batch joins express ones only) follow in the order they came, while the pass stays
within every member's limits (``RunBatch.max_tokens``, ``max_items``: the budget, or the
bulk cap, its API process cut it with). With several pass threads side by side (a CPU), a
waiting batch is better run by the next free thread, so nothing is joined.

A batch waits here until its pass starts, so a request whose client left must be withdrawn
here too: ``withdraw`` drops its items, and a batch left with none is answered at once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.models.base import Head


@dataclass(eq=False, slots=True)
class Waiting:
    """One API process's batch, from its arrival until its pass starts."""

    #: the wire it came on (and is answered on)
    wire: Any
    batch: int
    model: int
    payloads: list[Any]
    heads: frozenset[Head]
    express: bool = False
    #: what a pass holding it may hold: padded tokens (0: it runs alone) and items
    max_tokens: int = 0
    max_items: int = 0
    dropped: set[int] = field(default_factory=set)

    def live(self) -> list[int]:
        """The positions still wanted."""
        return [i for i in range(len(self.payloads)) if i not in self.dropped]


@dataclass(slots=True)
class Member:
    """A batch's share of a pass: its items still wanted, by their positions in the batch."""

    waiting: Waiting
    positions: list[int]


@dataclass(slots=True)
class Pass:
    model: int
    members: list[Member]
    payloads: list[Any]
    heads: frozenset[Head]

    def shares(self) -> list[tuple[Member, slice]]:
        """Each member, with the slice of the pass's results that are its items'."""
        out, start = [], 0
        for member in self.members:
            out.append((member, slice(start, start + len(member.positions))))
            start += len(member.positions)
        return out


class WaitingBatches:
    """The batches sent to the engine whose pass has not started. Every method is called
    under one lock: the wire reader adds and withdraws, the pass threads take."""

    def __init__(self, *, join: bool) -> None:
        #: join waiting batches into one pass (one pass thread, as on a GPU)
        self.join = join
        self._lock = threading.Lock()
        self._waiting: dict[tuple[int, int], Waiting] = {}  # in arrival order

    def add(self, waiting: Waiting) -> None:
        with self._lock:
            self._waiting[(id(waiting.wire), waiting.batch)] = waiting

    def withdraw(self, wire: Any, batch: int, positions: Sequence[int]) -> Waiting | None:
        """Drop a batch's items; the batch, when none of its items is left (its API process
        must be answered now: no pass will hold it). Items whose pass started run anyway."""
        with self._lock:
            waiting = self._waiting.get((id(wire), batch))
            if waiting is None:
                return None
            waiting.dropped.update(p for p in positions if 0 <= p < len(waiting.payloads))
            if len(waiting.dropped) < len(waiting.payloads):
                return None
            del self._waiting[(id(wire), batch)]
            return waiting

    def take(self, lead: Waiting) -> Pass | None:
        """The pass ``lead`` starts now: it, and the batches that join it. None if ``lead``
        already ran in another's pass, or was withdrawn whole."""
        with self._lock:
            if (id(lead.wire), lead.batch) not in self._waiting:  # ran, or withdrawn whole
                return None
            members = [self._take(lead)]
            if self.join and lead.max_tokens > 0:
                self._join(members)
        payloads = [m.waiting.payloads[i] for m in members for i in m.positions]
        heads = frozenset().union(*(m.waiting.heads for m in members))
        return Pass(lead.model, members, payloads, heads)

    def _take(self, waiting: Waiting) -> Member:
        del self._waiting[(id(waiting.wire), waiting.batch)]
        return Member(waiting, waiting.live())

    def _join(self, members: list[Member]) -> None:
        lead = members[0].waiting
        max_tokens, max_items = lead.max_tokens, lead.max_items or 1 << 30
        count = len(members[0].positions)
        longest = max((_length(lead.payloads[i]) for i in members[0].positions), default=0)
        for other in list(self._waiting.values()):
            if other.model != lead.model or other.express != lead.express or not other.max_tokens:
                continue
            live = other.live()
            tokens = min(max_tokens, other.max_tokens)
            items = min(max_items, other.max_items or 1 << 30)
            widest = max(longest, *(_length(other.payloads[i]) for i in live))
            if (count + len(live)) * widest > tokens or count + len(live) > items:
                continue
            members.append(self._take(other))
            max_tokens, max_items = tokens, items
            count, longest = count + len(live), widest


def _length(payload: Any) -> int:
    return len(payload.ids)
