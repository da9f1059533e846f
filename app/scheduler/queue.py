"""One model's queue of waiting work items: by priority class and tenant (``Lanes``), each
lane oldest first, with lazy removal of items whose request was cancelled (client gone, timed
out) so they never reach the device. A yielding job's items (a long document's passes) go to
the back of their lane each time a batch takes some of them, so a document shares the device
with the requests that come while it runs."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from app.scheduler.batcher import cut_tiers
from app.scheduler.jobs import Job, WorkItem
from app.scheduler.priorities import INTERACTIVE, PRIORITIES, Lanes, Priority


class ModelQueue:
    def __init__(
        self,
        name: str,
        kind: str,
        model: int,
        *,
        max_tokens: int,
        max_items: int,
        overhead_tokens: int | None = None,
        lookahead: int = 4096,
        fill_cost_factor: float | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        #: the model's number at the engine (its place in ``ModelSet.backends()``)
        self.model = model
        self.max_tokens = max_tokens
        self.max_items = max_items
        self.overhead_tokens = overhead_tokens
        #: items looked at per lane for one cut
        self.lookahead = lookahead
        #: how much longer batch-class fill may make a pass that carries interactive work
        #: (``cut_tiers``' ``fill_cost_factor``); None: as long as the budget allows
        self.fill_cost_factor = fill_cost_factor
        self._lanes: Lanes[WorkItem[Any]] = Lanes()

    def __len__(self) -> int:
        return len(self._lanes)

    def waiting(self, priority: Priority) -> int:
        """Items of this class waiting (cancelled ones not yet dropped included)."""
        return self._lanes.count(priority)

    def push(self, job: Job[Any]) -> None:
        self._lanes.push(job.lane, job.items)

    def lower_budget(self, failed_tokens: int, fitted_tokens: int) -> bool:
        """After a batch ran out of device memory: lower the token budget below the smallest
        part that failed (``failed_tokens``), to the largest part that ran after the split
        (``fitted_tokens``) or half the failed one, whichever is more. Only ever downward;
        True if it changed."""
        lowered = max(1, min(failed_tokens - 1, max(fitted_tokens, failed_tokens // 2)))
        if lowered >= self.max_tokens:
            return False
        self.max_tokens = lowered
        return True

    def oldest(self, priority: Priority | None = None) -> float | None:
        """Enqueue time of the oldest live item of ``priority`` (of any class when None); dead
        items at the head of a lane are dropped."""
        lanes = self._lanes.all_queues() if priority is None else self._lanes.queues(priority)
        return min((t for t in map(_oldest_live, lanes) if t is not None), default=None)

    def take_batch(
        self,
        order: Sequence[Priority] = PRIORITIES,
        *,
        same_job_only: bool = False,
        share: int = 1,
        bulk_max_cost: int | None = None,
    ) -> list[WorkItem[Any]]:
        """The next batch, from everything waiting up to the budget: the classes in ``order``
        (each class's tenants in their round-robin order), the first with work leading. With
        ``share`` > 1 and a lone request waiting, at most its share of that request, so that
        idle workers each run a part of it side by side; with several requests waiting, never
        split one. ``bulk_max_cost``: a batch holding batch-class work costs at most this
        (``cut_tiers``' ``fill_max_cost``; a text costlier alone still travels alone)."""
        lanes = [(p, lane) for p in order for lane in self._lanes.queues(p)]
        windows = [_take_live(lane, self.lookahead) for _, lane in lanes]
        seed = next((window[0] for window in windows if window), None)
        if seed is None:
            for p in PRIORITIES:
                self._lanes.served(p, first_served=False)
            return []
        tiers = windows
        if same_job_only:
            tiers = [[item for item in window if item.job is seed.job] for window in windows]
        max_items = self.max_items
        lone = all(item.job is seed.job for tier in tiers for item in tier)
        if share > 1 and lone:
            total = sum(len(tier) for tier in tiers)
            max_items = min(max_items, max(1, math.ceil(total / share)))
        chosen = cut_tiers(
            tiers,
            max_tokens=self.max_tokens,
            max_items=max_items,
            overhead_tokens=self.overhead_tokens,
            fill_from=next((t for t, (p, _) in enumerate(lanes) if p != INTERACTIVE), None),
            fill_cost_factor=self.fill_cost_factor,
            fill_max_cost=bulk_max_cost,
        )
        taken = [tiers[t][i] for t, i in sorted(chosen)]
        taken_ids = {id(item) for item in taken}
        # a yielding job served by this batch (a long document) goes behind all that waits
        served = {id(item.job) for item in taken if item.job.yields}
        first_of_class: dict[Priority, bool] = {}
        for (p, lane), window in zip(lanes, windows, strict=True):
            if p not in first_of_class:
                first_of_class[p] = any(id(item) in taken_ids for item in window)
            rest = [item for item in window if id(item) not in taken_ids]
            behind = [item for item in rest if id(item.job) in served]
            if behind:
                rest = [item for item in rest if id(item.job) not in served]
            lane.extendleft(reversed(rest))
            lane.extend(behind)
        for p in PRIORITIES:
            self._lanes.served(p, first_served=first_of_class.get(p, False))
        return taken


def _oldest_live(lane: deque[WorkItem[Any]]) -> float | None:
    while lane and not lane[0].live:
        lane.popleft()
    return lane[0].enqueued_at if lane else None


def _take_live(lane: deque[WorkItem[Any]], count: int) -> list[WorkItem[Any]]:
    """Up to ``count`` items off the head of ``lane``, the live ones."""
    head: Iterable[WorkItem[Any]] = [lane.popleft() for _ in range(min(count, len(lane)))]
    return [item for item in head if item.live]
