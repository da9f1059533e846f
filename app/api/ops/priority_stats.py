"""``/stats``' ``priorities``: queue depth, admissions and queue waits by priority class, from
the scheduler and the recorder's tallies (the same ones ``/metrics`` reads); and the pod's,
added up across API processes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from app.api.ops.schemas import ClassStats, PrioritiesStats, QueueWaitStats
from app.scheduler.outcomes import Kind
from app.scheduler.priorities import PRIORITIES
from app.scheduler.scheduler import Scheduler
from app.telemetry.metrics import SECONDS_BUCKETS
from app.telemetry.recorder import Recorder, WaitTally

KINDS: tuple[Kind, ...] = ("embed", "rerank")


def priority_stats(scheduler: Scheduler | None, recorder: Recorder) -> PrioritiesStats | None:
    if scheduler is None:
        return None
    stats = recorder.stats
    return PrioritiesStats(
        enabled=scheduler.policy.enabled,
        lowered=stats.priority_lowered.total(),
        classes={
            p: ClassStats(
                pending={k: scheduler.pending(k, p) for k in KINDS},
                queued_items={k: scheduler.queued_items(k, p) for k in KINDS},
                max_queue={k: scheduler.queue_bound(k, p) for k in KINDS},
                admitted={k: stats.admissions[(k, p, "admitted")] for k in KINDS},
                refused={k: stats.admissions[(k, p, "refused")] for k in KINDS},
                queue_wait=_waits(stats.queue_waits.get(p) or WaitTally()),
            )
            for p in PRIORITIES
        },
    )


def _waits(tally: WaitTally) -> QueueWaitStats:
    return QueueWaitStats(
        count=tally.count,
        sum_seconds=round(tally.seconds, 6),
        buckets={
            **{_le(bound): n for bound, n in zip(SECONDS_BUCKETS, tally.buckets, strict=True)},
            "+Inf": tally.count,
        },
    )


def _le(bound: float) -> str:
    return repr(float(bound))


def merge_priorities(each: Sequence[PrioritiesStats | None]) -> PrioritiesStats | None:
    """Every API process's classes added up; the bounds are each process's own (the asked
    one's)."""
    present = [p for p in each if p is not None]
    if not present:
        return None
    first = present[0]
    classes = {}
    for name, own in first.classes.items():
        parts = [p.classes[name] for p in present if name in p.classes]
        classes[name] = ClassStats(
            pending=_added(c.pending for c in parts),
            queued_items=_added(c.queued_items for c in parts),
            max_queue=own.max_queue,
            admitted=_added(c.admitted for c in parts),
            refused=_added(c.refused for c in parts),
            queue_wait=QueueWaitStats(
                count=sum(c.queue_wait.count for c in parts),
                sum_seconds=round(sum(c.queue_wait.sum_seconds for c in parts), 6),
                buckets=_added(c.queue_wait.buckets for c in parts),
            ),
        )
    return PrioritiesStats(
        enabled=first.enabled, lowered=sum(p.lowered for p in present), classes=classes
    )


def _added(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for each in counts:
        total.update(each)  # keeps zeros, where Counter's + would drop them
    return dict(total)
