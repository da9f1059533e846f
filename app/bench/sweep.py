"""``--sweep 1,4,16,32,64``: the same load at each concurrency, for each scenario, with the
raw ceiling of each scenario beside it (``--raw``); ``--plot`` draws it (``app.bench.plot``).

This module only orders the runs and keeps their figures: the caller measures (a function of
the scenario and the concurrency) and fills in each scenario's ceiling once the server has
stopped, as a single run does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.bench.load import LoadResult
from app.bench.workload import Scenario


@dataclass(frozen=True)
class SweepPoint:
    concurrency: int
    #: texts (or rerank pairs) per second
    units_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


@dataclass
class ScenarioSweep:
    scenario: Scenario
    #: "texts" or "pairs"
    unit: str
    points: list[SweepPoint] = field(default_factory=list)
    #: the machine's ceiling in units per second (the better raw run), None without --raw
    ceiling: float | None = None


@dataclass
class SweepResult:
    title: str
    scenarios: list[ScenarioSweep]

    def lines(self) -> list[str]:
        """One markdown table per scenario: what BENCHMARKS.md shows under the picture."""
        out = [self.title]
        for sweep in self.scenarios:
            ceiling = f"{sweep.ceiling:.1f} {sweep.unit}/s" if sweep.ceiling else "not measured"
            out += [
                "",
                f"`{sweep.scenario}` (raw ceiling: {ceiling})",
                "",
                f"| concurrency | {sweep.unit}/s | p50 ms | p99 ms | server / ceiling | errors |",
                "|---:|---:|---:|---:|---:|---:|",
            ]
            for p in sweep.points:
                ratio = f"{p.units_per_s / sweep.ceiling:.2f}" if sweep.ceiling else "-"
                out.append(
                    f"| {p.concurrency} | {p.units_per_s:.1f} | {p.p50_ms:.1f} | "
                    f"{p.p99_ms:.1f} | {ratio} | {p.errors}/{p.requests} |"
                )
        return out

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def read_json(cls, path: Path) -> SweepResult:
        data = json.loads(path.read_text())
        scenarios = [
            ScenarioSweep(
                scenario=s["scenario"],
                unit=s["unit"],
                points=[SweepPoint(**p) for p in s["points"]],
                ceiling=s["ceiling"],
            )
            for s in data["scenarios"]
        ]
        return cls(title=data["title"], scenarios=scenarios)


def parse_concurrencies(text: str) -> list[int]:
    """``"1,4,16"`` → ``[1, 4, 16]``: positive, each once, in the order given."""
    values = []
    for part in text.split(","):
        value = int(part)
        if value < 1:
            raise ValueError(f"a concurrency is at least 1, not {value}")
        if value not in values:
            values.append(value)
    return values


def run_sweep(
    title: str,
    scenarios: Sequence[Scenario],
    concurrencies: Sequence[int],
    *,
    measure: Callable[[Scenario, int], LoadResult],
    on_point: Callable[[Scenario, SweepPoint], None] = lambda scenario, point: None,
) -> SweepResult:
    result = SweepResult(title=title, scenarios=[])
    for scenario in scenarios:
        sweep = ScenarioSweep(scenario, "pairs" if scenario == "rerank" else "texts")
        for concurrency in concurrencies:
            load = measure(scenario, concurrency)
            point = SweepPoint(
                concurrency=concurrency,
                units_per_s=load.units_per_s,
                p50_ms=load.percentile(50),
                p99_ms=load.percentile(99),
                errors=load.errors,
                requests=load.requests,
            )
            sweep.points.append(point)
            on_point(scenario, point)
        result.scenarios.append(sweep)
    return result
