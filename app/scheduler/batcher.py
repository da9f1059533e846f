"""Cutting one batch from a queue of waiting items: pure logic, no torch, no asyncio.

The oldest waiting item always goes into the next batch (so nothing starves), and the rest
of the batch is filled with the waiting items closest to it in length, so padding stays
small. The padded cost of a batch is ``longest x count`` and stays within the token budget;
an item longer than the whole budget travels alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Sized(Protocol):
    @property
    def cost(self) -> int: ...


def padded_cost(costs: Sequence[int]) -> int:
    return max(costs) * len(costs) if costs else 0


def cut_batch(
    waiting: Sequence[Sized],
    *,
    max_tokens: int,
    max_items: int,
) -> list[int]:
    """Positions in ``waiting`` (oldest first) that make the next batch, in ascending order.

    ``waiting[0]`` is always included.
    """
    if not waiting:
        return []
    order = sorted(range(len(waiting)), key=lambda i: waiting[i].cost)
    costs = [waiting[i].cost for i in order]
    lo = hi = order.index(0)
    longest = costs[lo]
    count = 1
    while count < max_items:
        # Grow towards the neighbour that adds the least padding and still fits the budget.
        left_waste = right_waste = None
        if lo > 0 and longest * (count + 1) <= max_tokens:
            left_waste = longest - costs[lo - 1]
        if hi + 1 < len(costs) and costs[hi + 1] * (count + 1) <= max_tokens:
            right_waste = (costs[hi + 1] - longest) * count
        if left_waste is None and right_waste is None:
            break
        if right_waste is None or (left_waste is not None and left_waste <= right_waste):
            lo -= 1
        else:
            hi += 1
            longest = costs[hi]
        count += 1
    return sorted(order[lo : hi + 1])


def batch_limits_for(
    *,
    device_type: str,
    total_memory_bytes: int | None,
    max_length: int,
    hidden_size: int,
) -> tuple[int, int]:
    """Default (max_tokens, max_items) for a device, when the operator sets none.

    CPU: small batches keep latency low and cost nothing in throughput. GPU: the activation
    memory of one batch is roughly tokens x hidden x a constant; leave most memory free.
    """
    if device_type != "cuda" or not total_memory_bytes:
        return max(max_length, 8192), 64
    per_token = hidden_size * 4 * 48  # bytes of activations per token, with headroom
    budget = int(total_memory_bytes * 0.25) // per_token
    tokens = max(max_length, min(budget, 262_144))
    return tokens, 512
