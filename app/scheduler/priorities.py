"""Priority classes and fair shares between tenants: which waiting work leads the next batch.

Pure logic, no asyncio and no torch, so that it moves with the batch cut wherever that is
done (an API process today, the engine later):

- two classes, ``interactive`` (someone waits on the answer; the default) and ``batch``
  (bulk work, nobody waits on one request). A request's class is what it asked for, never
  above its API key's (``served_priority``);
- a ``Lane`` is a class and a tenant (the API key's name; requests without a key are one
  tenant). ``Lanes`` keeps the waiting work of each lane oldest first, and the tenants of a
  class in a round-robin order: each cut starts with the tenant whose turn it is, and that
  tenant goes to the back once it is served;
- ``Turns`` says which class leads a cut: interactive whenever it waits, except that batch
  work passed over ``starvation_passes`` cuts in a row leads the next one, so it gets at
  least one pass in ``starvation_passes + 1`` however busy the interactive class is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar, get_args

Priority = Literal["interactive", "batch"]
INTERACTIVE: Priority = "interactive"
BATCH: Priority = "batch"
#: the classes, highest first
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
#: the tenant of every request without an API key
NO_TENANT = ""

T = TypeVar("T")


def parse_priority(value: str) -> Priority | None:
    """A class name as a client may write it (any case, surrounding blanks); None if it names
    no class."""
    cleaned = value.strip().lower()
    return cleaned if cleaned in PRIORITIES else None


def rank(priority: Priority) -> int:
    """0 for the highest class."""
    return PRIORITIES.index(priority)


def served_priority(asked: Priority | None, key_priority: Priority | None) -> Priority:
    """The class a request is served in: what it asked for (its body's field, else its
    ``X-Priority`` header), else its API key's; never above its key's. A key set to ``batch``
    is pinned there: it cannot raise itself to ``interactive``."""
    ceiling = key_priority or INTERACTIVE
    wanted = asked or ceiling
    return wanted if rank(wanted) >= rank(ceiling) else ceiling


@dataclass(frozen=True, slots=True)
class Lane:
    """Where a request's work waits: its class and its tenant."""

    priority: Priority = INTERACTIVE
    tenant: str = NO_TENANT


DEFAULT_LANE = Lane()


class Lanes(Generic[T]):
    """Waiting work by class, then by tenant in round-robin order, each tenant's oldest first.

    A tenant whose work is all taken leaves the rotation and comes back at its end."""

    def __init__(self) -> None:
        # dicts keep insertion order: the first tenant of a class is the one whose turn it is
        self._classes: dict[Priority, dict[str, deque[T]]] = {p: {} for p in PRIORITIES}

    def __len__(self) -> int:
        return sum(len(q) for tenants in self._classes.values() for q in tenants.values())

    def push(self, lane: Lane, items: Iterable[T]) -> None:
        tenants = self._classes[lane.priority]
        waiting = tenants.get(lane.tenant)
        if waiting is None:
            waiting = tenants[lane.tenant] = deque()
        waiting.extend(items)

    def count(self, priority: Priority) -> int:
        return sum(len(q) for q in self._classes[priority].values())

    def queues(self, priority: Priority) -> list[deque[T]]:
        """The class's tenants' queues, the one whose turn it is first."""
        return list(self._classes[priority].values())

    def all_queues(self) -> Iterator[deque[T]]:
        for tenants in self._classes.values():
            yield from tenants.values()

    def served(self, priority: Priority, first_served: bool) -> None:
        """After a cut: the class's first tenant goes to the back if it was served, and tenants
        left with nothing waiting leave the rotation."""
        tenants = self._classes[priority]
        if first_served and tenants:
            first = next(iter(tenants))
            tenants[first] = tenants.pop(first)
        for tenant in [t for t, q in tenants.items() if not q]:
            del tenants[tenant]


class Turns:
    """Which class leads the next cut (see the module's docstring)."""

    def __init__(self, starvation_passes: int) -> None:
        self.starvation_passes = starvation_passes
        #: cuts in a row that left waiting batch work out
        self.passed_over = 0

    def order(self, waiting: Iterable[Priority]) -> tuple[Priority, ...]:
        """The classes in the order the next cut serves them, those with work waiting only."""
        present = set(waiting)
        if BATCH in present and self.passed_over >= self.starvation_passes:
            ordered: tuple[Priority, ...] = (BATCH, INTERACTIVE)
        else:
            ordered = PRIORITIES
        return tuple(p for p in ordered if p in present)

    def cut(self, waiting: Iterable[Priority], served: Iterable[Priority]) -> None:
        """Note a cut: the classes that had work waiting before it, and those it took work of."""
        if BATCH in set(served):
            self.passed_over = 0
        elif BATCH in set(waiting):
            self.passed_over += 1


#: a derived cap on bulk passes keeps each at least this many times its fixed cost, so that
#: the fixed cost is at most ~6 % of it
MIN_PASS_OVERHEADS = 16
#: the same for the lower cap while queries are about, on a CPU (MiniLM, 2 cores: 256 padded
#: tokens a pass cost the indexer under 10 %, BENCHMARKS.md)
CPU_INTERACTIVE_PASS_OVERHEADS = 4


@dataclass(frozen=True, slots=True)
class PriorityPolicy:
    """How the scheduler applies the classes (PRIORITIES, BATCH_STARVATION_PASSES,
    PRIORITY_EXPRESS_PASS, INTERACTIVE_FILL_FACTOR, BULK_PASS_TOKENS,
    INTERACTIVE_BULK_PASS_TOKENS, INTERACTIVE_SECONDS, INTERACTIVE_RESERVED_SLOT)."""

    #: off: every request is interactive and every tenant one, oldest first (as before classes)
    enabled: bool = True
    #: see ``Turns``
    starvation_passes: int = 4
    #: while the engine's pass slots are all held by bulk work, an interactive request is cut
    #: at once into one more pass, which the engine runs ahead of the batches queued there
    express: bool = True
    #: see ``cut_tiers``: a pass that carries interactive work takes batch-class fill only up
    #: to this many times its own cost; None: up to the budget
    fill_cost_factor: float | None = None
    #: the most a pass that holds batch-class work may cost (fixed pass cost + padded
    #: tokens), so that the pass an interactive request finds in flight is never much longer
    #: than the mean (BULK_PASS_TOKENS); None: derived from the budget (``bulk_max_cost``)
    bulk_pass_tokens: int | None = None
    #: the same, lower, while interactive work was seen in the last ``interactive_seconds``
    #: (INTERACTIVE_BULK_PASS_TOKENS, INTERACTIVE_SECONDS): bulk work alone keeps its full
    #: passes
    interactive_bulk_pass_tokens: int | None = None
    #: derive a lower cap while interactive work is about when none is set; off where the
    #: engine runs express passes on a thread of their own (``Engine.express_lane``): a
    #: query then waits for no bulk pass, and bulk passes keep their size
    lower_while_interactive: bool = True
    interactive_seconds: float = 1.0
    #: while interactive work was seen in the last ``interactive_seconds``, bulk work holds at
    #: most all but one of the engine's pass slots, so a query never waits for a pass in
    #: flight (INTERACTIVE_RESERVED_SLOT; on a CPU with two slots, bulk work runs one pass)
    reserve_slot: bool = False

    #: a derived INTERACTIVE_BULK_PASS_TOKENS is at least this many times the fixed pass
    #: cost: on a CPU, where passes run side by side and the measured fixed cost is partly
    #: hidden, the runtime lowers it (``CPU_INTERACTIVE_PASS_OVERHEADS``)
    interactive_pass_overheads: int = MIN_PASS_OVERHEADS

    def bulk_max_cost(self, interactive_recent: bool, budget: int, overhead: int) -> int:
        """What a pass holding batch-class work may cost now, for a model cut with this token
        ``budget`` and fixed pass cost (``overhead``). Derived caps: a quarter of the budget,
        but at least ``MIN_PASS_OVERHEADS`` times the fixed cost, so that bulk work alone
        loses little throughput to smaller passes (a GPU's passes, whose fixed cost is high,
        stay large); while interactive work is about, a 32nd of the budget, but at least
        ``interactive_pass_overheads`` times the fixed cost."""
        cap = self.bulk_pass_tokens or max(budget // 4, MIN_PASS_OVERHEADS * overhead)
        lowered = self.interactive_bulk_pass_tokens or self.lower_while_interactive
        if interactive_recent and lowered:
            lower = self.interactive_bulk_pass_tokens or max(
                budget // 32, self.interactive_pass_overheads * overhead
            )
            cap = min(cap, lower)
        return cap

    def lane(self, lane: Lane) -> Lane:
        """The lane a request waits in under this policy."""
        return lane if self.enabled else DEFAULT_LANE
