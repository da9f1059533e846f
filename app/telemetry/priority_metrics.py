"""The series by priority class: the queue depth the HPA reads (requests admitted and not yet
answered, by queue and class) and what admission did with each class's requests. Read at
scrape time from the scheduler and the recorder's tallies, like the other observable series.
(The queue-wait histogram by class is recorded as each batch is cut, in ``metrics.py``.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

#: the scheduler's priority classes (``app.scheduler.priorities``, above this layer)
PRIORITY_CLASSES = ("interactive", "batch")
QUEUES = ("embed", "rerank")
#: what admission did with a request
ADMISSION_OUTCOMES = ("admitted", "refused")


class PrioritySources:
    def __init__(self) -> None:
        #: (queue, class) -> requests admitted and not yet answered (the runtime fills it in)
        self.pending: Callable[[str, str], int] = lambda _queue, _priority: 0
        #: (queue, class, outcome) -> requests the scheduler admitted or refused, since start
        self.admissions: Callable[[], Counter[tuple[str, str, str]]] = Counter
        #: requests served in a lower class than they asked for (their API key's)
        self.lowered: Callable[[], int] = lambda: 0


def register_priority_instruments(meter: Meter, sources: PrioritySources) -> None:
    def depth(_options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(sources.pending(q, p), {"queue": q, "priority": p})
            for q in QUEUES
            for p in PRIORITY_CLASSES
        ]

    def admissions(_options: CallbackOptions) -> Iterable[Observation]:
        seen: Counter[tuple[str, str, str]] = Counter(
            {(q, p, o): 0 for q in QUEUES for p in PRIORITY_CLASSES for o in ADMISSION_OUTCOMES}
        )
        seen.update(sources.admissions())
        return [
            Observation(n, {"queue": q, "priority": p, "outcome": o})
            for (q, p, o), n in seen.items()
        ]

    meter.create_observable_gauge(
        "smart_embedder_queue_depth",
        callbacks=[depth],
        description="Requests admitted and not yet answered in this pod, by queue and priority "
        "class (the HPA's metric; autoscaling.queueDepth.priority picks a class).",
    )
    meter.create_observable_counter(
        "smart_embedder_priority_requests_total",
        callbacks=[admissions],
        description="Requests the scheduler admitted, or refused with 503 because their "
        "class's queue was full, by queue, priority class and outcome.",
    )
    meter.create_observable_counter(
        "smart_embedder_priority_lowered_total",
        callbacks=[lambda _options: [Observation(sources.lowered())]],
        description="Requests that asked for a class above their API key's priority and were "
        "served in the key's.",
    )
