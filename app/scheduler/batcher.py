"""Cutting one batch from a queue of waiting items: pure logic, no torch, no asyncio.

The oldest waiting item always goes into the next batch (so nothing starves), and the rest
of the batch is filled with the waiting items closest to it in length, so padding stays
small. The padded cost of a batch is ``longest x count`` and stays within the token budget;
an item longer than the whole budget travels alone. With priority classes and tenants the
waiting items come in tiers (``cut_tiers``): the oldest item of the first tier seeds the
batch, and lower tiers fill what the higher ones leave.
"""

from __future__ import annotations

from bisect import bisect_right
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
    chosen = cut_tiers(
        [waiting], max_tokens=max_tokens, max_items=max_items, overhead_tokens=overhead_tokens
    )
    return sorted(position for _, position in chosen)


def cut_tiers(
    tiers: Sequence[Sequence[Sized]],
    *,
    max_tokens: int,
    max_items: int,
    overhead_tokens: int | None = None,
    fill_from: int | None = None,
    fill_cost_factor: float | None = None,
    fill_max_cost: int | None = None,
) -> list[tuple[int, int]]:
    """The next batch from waiting items in tiers, highest first (a class and tenant each, in
    the order they are served, see ``app.scheduler.priorities``): ``(tier, position)`` pairs.

    The first item of the first tier that has any seeds the batch; it grows from its own tier
    as ``cut_batch`` grows a batch, then from each following tier in turn, always with the
    item that adds the least padding, within the same budget, cap and efficiency rule. So a
    lower tier only fills what a higher one leaves, and a higher tier's items are never left
    out for a lower one's.

    ``fill_from`` is the first tier of bulk work (the batch class). ``fill_max_cost``: once
    the batch holds bulk work (seeded by it, or filled from tier ``fill_from`` on), it grows
    only while its pass costs (``overhead_tokens`` + padded tokens) at most that, so bulk
    passes are of near-equal, bounded cost whatever the lengths of their texts.
    ``fill_cost_factor``: a batch seeded before tier ``fill_from`` (a pass that somebody waits
    on) takes bulk work only while its pass costs at most that many times what it cost
    before that tier, so that filling it makes it at most that much longer.
    """
    seed_tier = next((t for t, items in enumerate(tiers) if items), None)
    if seed_tier is None:
        return []
    overhead = overhead_tokens or 0
    longest = real = tiers[seed_tier][0].cost
    count = 1
    chosen: list[tuple[int, int]] = [(seed_tier, 0)]
    budget = max_tokens

    def capped(tokens: int) -> int:
        if fill_max_cost is None:
            return tokens
        return max(0, min(tokens, fill_max_cost - overhead))

    bulk_led = fill_from is not None and seed_tier >= fill_from
    filling = bulk_led
    if bulk_led:
        budget = capped(max_tokens)

    def efficiency(real_tokens: int, padded_tokens: int) -> float:
        return real_tokens / (overhead + padded_tokens)

    for t in range(seed_tier, len(tiers)):
        items = tiers[t]
        if not items:
            continue
        if fill_from is not None and t >= fill_from and not filling:
            filling = True  # the first tier of bulk work to fill this pass
            if fill_cost_factor is not None:
                grown = int(fill_cost_factor * (overhead + longest * count))
                budget = min(budget, grown - overhead)
            budget = capped(budget)
        order = sorted(range(len(items)), key=lambda i: items[i].cost)
        costs = [items[i].cost for i in order]
        if t == seed_tier:
            lo = hi = order.index(0)  # the seed, among its own tier's items by length
        else:
            lo = bisect_right(costs, longest)  # left of it: items no longer than the batch's
            hi = lo - 1
        while count < max_items:
            # Each side's candidate: the padded size after adding it, if that fits the budget.
            options: list[tuple[float, int, str]] = []
            if lo > 0 and longest * (count + 1) <= budget:
                options.append((longest - costs[lo - 1], longest * (count + 1), "left"))
            if hi + 1 < len(costs) and costs[hi + 1] * (count + 1) <= budget:
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
        chosen += [(t, order[i]) for i in range(lo, hi + 1) if (t, order[i]) != (seed_tier, 0)]
    return chosen


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
