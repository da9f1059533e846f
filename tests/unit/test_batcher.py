"""The batch-cutting rule, pure: budget, item cap, oldest-first, similar lengths together."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from app.scheduler.batcher import batch_limits_for, cut_batch, padded_cost


@dataclass
class Item:
    cost: int


def costs_of(waiting: list[Item], positions: list[int]) -> list[int]:
    return [waiting[i].cost for i in positions]


@given(
    costs=st.lists(st.integers(1, 600), min_size=1, max_size=80),
    max_tokens=st.integers(1, 4000),
    max_items=st.integers(1, 40),
)
def test_any_cut_respects_budget_cap_and_takes_the_oldest(
    costs: list[int], max_tokens: int, max_items: int
) -> None:
    waiting = [Item(c) for c in costs]
    chosen = cut_batch(waiting, max_tokens=max_tokens, max_items=max_items)
    assert chosen[0] == 0
    assert chosen == sorted(set(chosen))
    assert len(chosen) <= max_items
    if len(chosen) > 1:
        assert padded_cost(costs_of(waiting, chosen)) <= max_tokens


@given(costs=st.lists(st.integers(1, 50), min_size=1, max_size=60))
def test_a_generous_budget_takes_everything_up_to_the_cap(costs: list[int]) -> None:
    waiting = [Item(c) for c in costs]
    chosen = cut_batch(waiting, max_tokens=10**6, max_items=32)
    assert len(chosen) == min(32, len(costs))


def test_fills_with_the_closest_lengths_not_the_queue_order() -> None:
    waiting = [Item(c) for c in (10, 500, 11, 480, 12, 9)]
    chosen = cut_batch(waiting, max_tokens=48, max_items=8)
    assert costs_of(waiting, chosen) == [10, 11, 12, 9]


def test_an_item_over_the_budget_travels_alone() -> None:
    waiting = [Item(c) for c in (9000, 10, 10)]
    assert cut_batch(waiting, max_tokens=8192, max_items=8) == [0]


def test_empty_queue_gives_an_empty_batch() -> None:
    assert cut_batch([], max_tokens=100, max_items=4) == []


def test_padded_cost_is_longest_times_count() -> None:
    assert padded_cost([3, 9, 4]) == 27
    assert padded_cost([]) == 0


def test_device_defaults() -> None:
    cpu_tokens, cpu_items = batch_limits_for(
        device_type="cpu", total_memory_bytes=None, max_length=8192, hidden_size=1024
    )
    assert cpu_tokens >= 8192 and cpu_items == 64
    gpu_tokens, gpu_items = batch_limits_for(
        device_type="cuda", total_memory_bytes=80 * 2**30, max_length=8192, hidden_size=1024
    )
    assert gpu_tokens > cpu_tokens and gpu_items > cpu_items
    small_gpu, _ = batch_limits_for(
        device_type="cuda", total_memory_bytes=8 * 2**30, max_length=8192, hidden_size=1024
    )
    assert 8192 <= small_gpu < gpu_tokens
