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


#: What one forward pass costs beyond its tokens, in tokens of compute. CPU: chosen with the
#: MiniLM benchmark on 2 cores (8, 16, 32, 64, 256, 512 compared; 32 served most texts/s —
#: padding costs more there than the pass overhead suggests). GPU: ~5 ms of kernel launches
#: on a device that runs ~1M tokens/s; not yet measured on one.
DEFAULT_OVERHEAD_TOKENS = {"cpu": 32, "cuda": 4096}


def padded_cost(costs: Sequence[int]) -> int:
    return max(costs) * len(costs) if costs else 0


def cut_batch(
    waiting: Sequence[Sized],
    *,
    max_tokens: int,
    max_items: int,
    overhead_tokens: int | None = None,
) -> list[int]:
    """Positions in ``waiting`` (oldest first) that make the next batch, in ascending order.

    ``waiting[0]`` is always included. Without ``overhead_tokens`` the batch grows as far as
    the budget and the cap allow. With it, the batch grows only while that raises its
    efficiency, real tokens / (overhead + padded tokens): a forward pass costs a fixed
    overhead (worth ``overhead_tokens`` tokens of compute) plus its padded size, so on a CPU,
    where the overhead is small, a long text is not worth padding twenty short ones to.
    """
    if not waiting:
        return []
    order = sorted(range(len(waiting)), key=lambda i: waiting[i].cost)
    costs = [waiting[i].cost for i in order]
    lo = hi = order.index(0)
    longest = real = costs[lo]
    count = 1

    def efficiency(real_tokens: int, padded_tokens: int) -> float:
        return real_tokens / ((overhead_tokens or 0) + padded_tokens)

    while count < max_items:
        # Each side's candidate: the padded size after adding it, if that fits the budget.
        options: list[tuple[float, int, str]] = []
        if lo > 0 and longest * (count + 1) <= max_tokens:
            options.append((longest - costs[lo - 1], longest * (count + 1), "left"))
        if hi + 1 < len(costs) and costs[hi + 1] * (count + 1) <= max_tokens:
            options.append(
                ((costs[hi + 1] - longest) * count, costs[hi + 1] * (count + 1), "right")
            )
        if not options:
            break
        _, padded, side = min(options)  # the least added padding
        added = costs[lo - 1] if side == "left" else costs[hi + 1]
        if overhead_tokens is not None and efficiency(real + added, padded) < efficiency(
            real, longest * count
        ):
            break
        if side == "left":
            lo -= 1
        else:
            hi += 1
            longest = costs[hi]
        real += added
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

    CPU: compute grows with padded tokens, so big batches buy little; the efficiency rule in
    ``cut_batch`` keeps them tight. GPU: the activation memory of one batch is roughly
    tokens x hidden x a constant; leave most memory free.
    """
    if device_type != "cuda" or not total_memory_bytes:
        return max(max_length, 8192), 64
    per_token = hidden_size * 4 * 48  # bytes of activations per token, with headroom
    budget = int(total_memory_bytes * 0.25) // per_token
    tokens = max(max_length, min(budget, 262_144))
    return tokens, 512
