"""The priority rules, pure: which class a request is served in, the round-robin between
tenants, the starvation guard, and batches cut from tiers."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from app.scheduler.batcher import cut_batch, cut_tiers, padded_cost
from app.scheduler.priorities import (
    BATCH,
    CPU_INTERACTIVE_PASS_OVERHEADS,
    INTERACTIVE,
    Lane,
    Lanes,
    PriorityPolicy,
    Turns,
    parse_priority,
    served_priority,
)


@dataclass
class Item:
    cost: int


def test_a_request_gets_what_it_asks_for_never_above_its_key() -> None:
    assert served_priority(None, None) == INTERACTIVE
    assert served_priority(BATCH, None) == BATCH
    assert served_priority(INTERACTIVE, INTERACTIVE) == INTERACTIVE
    # a key's priority is the default of its requests...
    assert served_priority(None, BATCH) == BATCH
    # ...and their ceiling: a batch key cannot raise itself
    assert served_priority(INTERACTIVE, BATCH) == BATCH
    # an interactive key may lower itself
    assert served_priority(BATCH, INTERACTIVE) == BATCH


def test_class_names_are_read_leniently_and_others_refused() -> None:
    assert parse_priority(" Batch ") == BATCH
    assert parse_priority("INTERACTIVE") == INTERACTIVE
    assert parse_priority("urgent") is None
    assert parse_priority("") is None


def test_tenants_of_a_class_take_turns() -> None:
    lanes: Lanes[str] = Lanes()
    lanes.push(Lane(BATCH, "a"), ["a1", "a2"])
    lanes.push(Lane(BATCH, "b"), ["b1", "b2"])
    assert [q[0] for q in lanes.queues(BATCH)] == ["a1", "b1"]
    lanes.queues(BATCH)[0].popleft()
    lanes.served(BATCH, first_served=True)
    assert [q[0] for q in lanes.queues(BATCH)] == ["b1", "a2"]
    # a tenant whose work is all taken leaves the rotation, and comes back at its end
    lanes.queues(BATCH)[0].clear()
    lanes.served(BATCH, first_served=True)
    assert [q[0] for q in lanes.queues(BATCH)] == ["a2"]
    lanes.push(Lane(BATCH, "b"), ["b3"])
    assert [q[0] for q in lanes.queues(BATCH)] == ["a2", "b3"]
    assert lanes.count(BATCH) == 2 and lanes.count(INTERACTIVE) == 0 and len(lanes) == 2


def test_interactive_leads_and_batch_is_never_passed_over_more_than_n_cuts() -> None:
    turns = Turns(starvation_passes=3)
    both = (INTERACTIVE, BATCH)
    led_by = []
    for _ in range(12):
        order = turns.order(both)
        led_by.append(order[0])
        turns.cut(both, served={order[0]})  # each cut full of its leading class's work
    assert led_by == [INTERACTIVE] * 3 + [BATCH] + [INTERACTIVE] * 3 + [BATCH] + [
        INTERACTIVE
    ] * 3 + [BATCH]
    # a cut that takes batch work as fill resets the count
    turns = Turns(starvation_passes=1)
    turns.cut(both, served={INTERACTIVE, BATCH})
    assert turns.order(both) == both
    # only the classes with work waiting are named
    assert Turns(1).order([BATCH]) == (BATCH,)
    assert Turns(1).order([]) == ()


@given(
    costs=st.lists(st.integers(1, 600), min_size=1, max_size=60),
    max_tokens=st.integers(1, 4000),
    max_items=st.integers(1, 40),
    overhead=st.none() | st.integers(0, 5000),
)
def test_one_tier_cuts_as_cut_batch_always_did(
    costs: list[int], max_tokens: int, max_items: int, overhead: int | None
) -> None:
    waiting = [Item(c) for c in costs]
    tiers = cut_tiers(
        [waiting], max_tokens=max_tokens, max_items=max_items, overhead_tokens=overhead
    )
    assert sorted(i for _, i in tiers) == cut_batch(
        waiting, max_tokens=max_tokens, max_items=max_items, overhead_tokens=overhead
    )


@given(
    tiers=st.lists(st.lists(st.integers(1, 300), max_size=20), min_size=1, max_size=4),
    max_tokens=st.integers(1, 3000),
    max_items=st.integers(1, 30),
)
def test_lower_tiers_only_fill_what_higher_ones_leave(
    tiers: list[list[int]], max_tokens: int, max_items: int
) -> None:
    waiting = [[Item(c) for c in tier] for tier in tiers]
    chosen = cut_tiers(waiting, max_tokens=max_tokens, max_items=max_items)
    if not any(tiers):
        assert chosen == []
        return
    seed_tier = next(t for t, tier in enumerate(tiers) if tier)
    assert chosen[0] == (seed_tier, 0)  # the first tier's oldest leads
    assert len(chosen) == len(set(chosen)) <= max_items
    if len(chosen) > 1:
        assert padded_cost([tiers[t][i] for t, i in chosen]) <= max_tokens
    # every item of a higher tier that would still fit was taken before any lower one
    longest = max(tiers[t][i] for t, i in chosen)
    for t, tier in enumerate(tiers):
        lower_taken = any(u > t for u, _ in chosen)
        for i, cost in enumerate(tier):
            if lower_taken and (t, i) not in chosen:
                assert max(longest, cost) * (len(chosen) + 1) > max_tokens or (
                    len(chosen) >= max_items
                )


def test_an_interactive_query_leads_and_bulk_work_fills_the_rest() -> None:
    interactive = [Item(12)]
    batch = [Item(c) for c in (200, 14, 11, 300, 13, 10)]
    chosen = cut_tiers([interactive, batch], max_tokens=80, max_items=8)
    assert chosen[0] == (0, 0)
    assert sorted(batch[i].cost for t, i in chosen if t == 1) == [10, 11, 13, 14]


def test_fill_may_make_a_waited_on_pass_only_so_much_longer() -> None:
    interactive = [Item(10)]
    batch = [Item(10) for _ in range(50)]
    # alone: 30 (overhead) + 10; twice that allows 80 - 30 = 50 padded tokens, 5 items
    chosen = cut_tiers(
        [interactive, batch],
        max_tokens=10_000,
        max_items=64,
        overhead_tokens=30,
        fill_from=1,
        fill_cost_factor=2.0,
    )
    assert len(chosen) == 5
    unbounded = cut_tiers([interactive, batch], max_tokens=10_000, max_items=64, overhead_tokens=30)
    assert len(unbounded) == 51


@given(
    tiers=st.lists(st.lists(st.integers(1, 300), max_size=20), min_size=2, max_size=4),
    fill_from=st.integers(0, 3),
    max_cost=st.integers(1, 3000),
    overhead=st.integers(0, 100),
)
def test_a_pass_holding_bulk_work_never_costs_more_than_its_cap(
    tiers: list[list[int]], fill_from: int, max_cost: int, overhead: int
) -> None:
    waiting = [[Item(c) for c in tier] for tier in tiers]
    chosen = cut_tiers(
        waiting,
        max_tokens=100_000,
        max_items=64,
        overhead_tokens=overhead,
        fill_from=fill_from,
        fill_max_cost=max_cost,
    )
    bulk = [t for t, _ in chosen if t >= fill_from]
    if len(chosen) > 1 and bulk:
        # a text costlier than the cap alone still travels, alone
        assert overhead + padded_cost([tiers[t][i] for t, i in chosen]) <= max_cost


def test_bulk_passes_of_mixed_lengths_are_cut_to_near_equal_cost() -> None:
    batch = [Item(c) for c in (10, 10, 10, 10, 10, 10, 40, 40, 40, 200)]
    cut = functools.partial(
        cut_tiers, max_tokens=10_000, max_items=64, overhead_tokens=20, fill_from=0
    )
    # 20 + 10 x 6 = 80 tokens of cost: all six short texts in one pass
    assert [batch[i].cost for _, i in cut([batch], fill_max_cost=100)] == [10] * 6
    # a long text seeds: 20 + 40 x 2 = 100, so two of the three
    longs = batch[6:]
    assert [longs[i].cost for _, i in cut([longs], fill_max_cost=100)] == [40, 40]
    # costlier than the cap alone: travels alone
    assert cut([batch[9:]], fill_max_cost=100) == [(0, 0)]


def test_a_query_pass_takes_bulk_fill_only_up_to_the_bulk_cap() -> None:
    interactive = [Item(10)]
    batch = [Item(10) for _ in range(50)]
    # 20 + 10 x 5 = 70 <= 75: the query and four bulk texts
    cut = functools.partial(cut_tiers, max_tokens=10_000, max_items=64, overhead_tokens=20)
    chosen = cut([interactive, batch], fill_from=1, fill_max_cost=75)
    assert chosen[0] == (0, 0) and len(chosen) == 5
    # the queries themselves are never capped
    queries = cut([batch, []], fill_from=1, fill_max_cost=75)
    assert len(queries) == 50


def test_bulk_caps_derive_from_the_budget_and_the_fixed_pass_cost() -> None:
    cpu = PriorityPolicy(interactive_pass_overheads=CPU_INTERACTIVE_PASS_OVERHEADS)
    # MiniLM on a CPU: budget 8192, a pass's fixed cost measured at 32 to 54 tokens
    assert cpu.bulk_max_cost(False, 8192, 54) == 2048
    assert cpu.bulk_max_cost(True, 8192, 54) == 256
    assert cpu.bulk_max_cost(True, 8192, 100) == 400  # 4 x its fixed cost at least
    # a GPU: the fixed cost is high, so passes stay at 16 times it
    gpu = PriorityPolicy()
    assert gpu.bulk_max_cost(True, 262_144, 4096) == 65_536
    assert gpu.bulk_max_cost(False, 262_144, 4096) == 65_536
    set_by_operator = PriorityPolicy(bulk_pass_tokens=3000, interactive_bulk_pass_tokens=700)
    assert set_by_operator.bulk_max_cost(False, 8192, 32) == 3000
    assert set_by_operator.bulk_max_cost(True, 8192, 32) == 700
    # the lower cap never raises the full one
    assert PriorityPolicy(bulk_pass_tokens=300).bulk_max_cost(True, 8192, 32) == 300


def test_with_an_express_thread_bulk_passes_keep_their_size_unless_set() -> None:
    from app.runtime import priority_policy
    from app.settings import Settings

    lane = priority_policy(Settings(), express_lane=True)
    assert not lane.lower_while_interactive
    assert lane.bulk_max_cost(True, 8192, 54) == lane.bulk_max_cost(False, 8192, 54) == 2048
    assert priority_policy(Settings(), express_lane=False).bulk_max_cost(True, 8192, 54) < 2048
    # an operator's lower cap still holds
    set_cap = priority_policy(Settings(interactive_bulk_pass_tokens=700), express_lane=True)
    assert set_cap.bulk_max_cost(True, 8192, 54) == 700
