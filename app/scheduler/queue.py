"""One model's queue of waiting work items, oldest first, with lazy removal of items whose
request was cancelled (client gone, timed out) so they never reach the device. A yielding
job's items (a long document's passes) go to the back each time a batch takes some of them,
so a document shares the device with the requests that come while it runs."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from app.scheduler.batcher import cut_batch
from app.scheduler.jobs import Job, WorkItem


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
    ) -> None:
        self.name = name
        self.kind = kind
        #: the model's number at the engine (its place in ``ModelSet.backends()``)
        self.model = model
        self.max_tokens = max_tokens
        self.max_items = max_items
        self.overhead_tokens = overhead_tokens
        self.lookahead = lookahead
        self._items: deque[WorkItem[Any]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def push(self, job: Job[Any]) -> None:
        self._items.extend(job.items)

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

    def oldest(self) -> float | None:
        """Enqueue time of the oldest live item (dead items at the head are dropped)."""
        while self._items and not self._items[0].live:
            self._items.popleft()
        return self._items[0].enqueued_at if self._items else None

    def take_batch(self, *, same_job_only: bool = False, share: int = 1) -> list[WorkItem[Any]]:
        """The next batch, from everything waiting up to the budget. With ``share`` > 1 and
        a lone request waiting, at most its share of that request, so that idle workers each
        run a part of it side by side; with several requests waiting, never split one."""
        if self.oldest() is None:
            return []
        head = [self._items.popleft() for _ in range(min(self.lookahead, len(self._items)))]
        live = [item for item in head if item.live]
        window = live
        if same_job_only:
            window = [item for item in live if item.job is live[0].job]
        max_items = self.max_items
        lone = all(item.job is window[0].job for item in window)
        if share > 1 and lone:
            max_items = min(max_items, max(1, math.ceil(len(window) / share)))
        chosen_positions = cut_batch(
            window,
            max_tokens=self.max_tokens,
            max_items=max_items,
            overhead_tokens=self.overhead_tokens,
        )
        chosen = [window[i] for i in chosen_positions]
        chosen_ids = {id(item) for item in chosen}
        rest = [item for item in live if id(item) not in chosen_ids]
        # a yielding job served by this batch (a long document) goes behind all that waits
        served = {id(item.job) for item in chosen if item.job.yields}
        behind = [item for item in rest if id(item.job) in served]
        if behind:
            rest = [item for item in rest if id(item.job) not in served]
        self._items.extendleft(reversed(rest))
        self._items.extend(behind)
        return chosen
