"""One pod's ``/metrics`` from several API processes' (``API_WORKERS``): each keeps its own
instruments, and the one a scrape reaches adds up the others' expositions, so the series a
dashboard or the HPA reads count every request whichever process answered it.

Counters, histograms and the gauges that count things now (queued texts, requests in
flight) are summed per series; a gauge that describes the pod (``*_info``, GPU memory, read
from the same device by every process) is taken once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.samples import Sample

#: gauges that describe the pod rather than count work: the same in every API process (the
#: engine's RSS too: one engine, reported alike by each; each API process's has its own pid)
_DESCRIPTIVE_PREFIXES = ("gpu_memory_", "embedding_gpu_memory_", "smart_embedder_process_")


def _is_descriptive(family: Metric) -> bool:
    return family.type in ("gauge", "info", "stateset", "unknown") and (
        family.name.endswith("_info") or family.name.startswith(_DESCRIPTIVE_PREFIXES)
    )


def merge_expositions(expositions: Sequence[bytes]) -> bytes:
    """The Prometheus text of several processes' expositions added up, series by series."""
    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in expositions:
        for family in text_string_to_metric_families(text.decode()):
            merged = families.setdefault(
                family.name, Metric(family.name, family.documentation, family.type, family.unit)
            )
            series = values.setdefault(merged.name, {})
            descriptive = _is_descriptive(family)
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in series:
                    series[key] = sample.value
                elif not descriptive:
                    series[key] += sample.value
    for name, family in families.items():
        family.samples = [
            Sample(sample_name, dict(labels), value)
            for (sample_name, labels), value in values[name].items()
        ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(list(families.values())))
    return generate_latest(registry)


class _Fixed(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families
