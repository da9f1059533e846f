"""One pod's ``/stats`` from several API processes' (``API_WORKERS``): counts added up, the
pod's description (uptime, hardware) from the process asked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from app.api.ops.priority_stats import merge_priorities
from app.api.ops.schemas import EmbedCacheStatus, KeysStats, KeyUsage, StatsBody, StatsTotals

_decode = msgspec.json.Decoder(StatsBody).decode


def merge_stats(own: StatsBody, sibling_bodies: Sequence[bytes]) -> StatsBody:
    bodies = [own, *(_decode(body) for body in sibling_bodies)]
    totals = {
        field: sum(getattr(body.totals, field) for body in bodies)
        for field in StatsTotals.__struct_fields__
        if field != "items_per_batch"
    }
    rejected: dict[str, Counter[str]] = {}
    for body in bodies:
        for endpoint, reasons in body.rejected_by_endpoint.items():
            rejected.setdefault(endpoint, Counter()).update(reasons)
    return msgspec.structs.replace(
        own,
        total_requests=sum(body.total_requests for body in bodies),
        total_sentences=sum(body.total_sentences for body in bodies),
        total_batches=sum(body.total_batches for body in bodies),
        rejected_requests=sum(body.rejected_requests for body in bodies),
        totals=StatsTotals(
            **totals,
            items_per_batch=round(totals["batch_items"] / totals["batches"], 2)
            if totals["batches"]
            else 0.0,
        ),
        requests_by_endpoint=_added(body.requests_by_endpoint for body in bodies),
        rejected_by_endpoint={endpoint: dict(counts) for endpoint, counts in rejected.items()},
        queue=_added(body.queue for body in bodies),
        keys=_merged_keys([body.keys for body in bodies]),
        embed_cache=_merged_caches([body.embed_cache for body in bodies]),
        priorities=merge_priorities([body.priorities for body in bodies]),
    )


def _merged_caches(each: Sequence[EmbedCacheStatus | None]) -> EmbedCacheStatus | None:
    """Each API process has a cache of its own (EMBED_CACHE_MB each): the pod's is their sum."""
    caches = [cache for cache in each if cache is not None]
    if not caches:
        return None
    return EmbedCacheStatus(
        **{
            field: sum(getattr(cache, field) for cache in caches)
            for field in EmbedCacheStatus.__struct_fields__
        }
    )


def _merged_keys(each: Sequence[KeysStats]) -> KeysStats:
    """Every process reads the same keys file: its key names and reloads are the asked
    process's; each key's traffic is the sum of every process's."""
    usage: dict[str, KeyUsage] = {}
    for keys in each:
        for name, used in keys.usage.items():
            if name not in usage:
                usage[name] = msgspec.structs.replace(
                    used, statuses=dict(used.statuses), rejected=dict(used.rejected)
                )
                continue
            total = usage[name]
            total.requests += used.requests
            total.texts += used.texts
            total.tokens += used.tokens
            total.in_flight += used.in_flight
            total.statuses = _added([total.statuses, used.statuses])
            total.rejected = _added([total.rejected, used.rejected])
    return msgspec.structs.replace(each[0], usage=usage)


def _added(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for each in counts:
        total.update(each)  # keeps zeros, where Counter's + would drop them
    return dict(total)
