"""The sweep as a picture: for each scenario, throughput (top) and p99 latency (bottom)
against the number of concurrent clients, the server's line beside the raw ceiling's.

matplotlib comes with the ``bench`` extra; it draws off-screen (Agg), so no display is needed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from app.bench.sweep import SweepResult


def plot_sweep(result: SweepResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = len(result.scenarios)
    figure, axes = plt.subplots(
        2, columns, figsize=(4.2 * columns, 6.4), squeeze=False, constrained_layout=True
    )
    for column, sweep in enumerate(result.scenarios):
        concurrency = [p.concurrency for p in sweep.points]
        top, bottom = axes[0][column], axes[1][column]
        top.plot(concurrency, [p.units_per_s for p in sweep.points], "o-", label="server")
        if sweep.ceiling is not None:
            top.axhline(sweep.ceiling, color="tab:gray", linestyle="--", label="raw ceiling")
        top.set_title(sweep.scenario)
        top.set_ylabel(f"{sweep.unit} per second")
        top.set_ylim(bottom=0)
        top.legend(loc="center right", fontsize="small")
        bottom.plot(concurrency, [p.p99_ms for p in sweep.points], "o-", color="tab:red")
        bottom.set_ylabel("p99 latency, ms")
        bottom.set_ylim(bottom=0)
        bottom.set_xlabel("concurrent clients")
        for axis in (top, bottom):
            axis.set_xscale("log", base=2)
            axis.set_xticks(concurrency, [str(c) for c in concurrency])
            axis.grid(True, alpha=0.3)
    # the title names the models by path: wrapped, it stays inside the picture
    figure.suptitle(textwrap.fill(result.title, width=45 * columns), fontsize="medium")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
