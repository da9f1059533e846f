"""``--sweep`` and ``--plot``: parsing, the figures' table and JSON, and a PNG drawn from
synthetic results that decodes with the size and content of two rows of panels."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.bench import __main__ as bench
from app.bench.load import LoadResult
from app.bench.plot import plot_sweep
from app.bench.sweep import SweepResult, parse_concurrencies, run_sweep

CONCURRENCY = [1, 4, 16, 32, 64]


def _synthetic() -> SweepResult:
    def measure(scenario: str, concurrency: int) -> LoadResult:
        # throughput that saturates and latency that grows with the queue, as a server's do
        per_s = 100.0 * concurrency / (concurrency + 8)
        latency = 10.0 + concurrency * 1.5
        return LoadResult(
            requests=200,
            errors=0,
            seconds=200 / per_s,
            latencies_ms=[latency] * 198 + [latency * 2] * 2,
            units=800,
        )

    result = run_sweep("synthetic", ["embed_dense", "rerank"], CONCURRENCY, measure=measure)
    for sweep, ceiling in zip(result.scenarios, (500.0, 400.0), strict=True):
        sweep.ceiling = ceiling
    return result


def test_the_sweep_keeps_a_point_per_scenario_and_concurrency() -> None:
    result = _synthetic()
    assert [s.scenario for s in result.scenarios] == ["embed_dense", "rerank"]
    assert [s.unit for s in result.scenarios] == ["texts", "pairs"]
    dense = result.scenarios[0]
    assert [p.concurrency for p in dense.points] == CONCURRENCY
    assert dense.points[0].units_per_s == pytest.approx(4 * 100 / 9)
    assert dense.points[-1].p99_ms == pytest.approx(2 * (10 + 64 * 1.5))
    lines = result.lines()
    assert "| 64 | 355.6 | 106.0 | 212.0 | 0.71 | 0/200 |" in lines


def test_the_plot_is_a_png_of_two_rows_of_panels(tmp_path: Path) -> None:
    path = plot_sweep(_synthetic(), tmp_path / "docs" / "bench.png")
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()  # decodes the whole image, not just its header
        assert image.size == (840, 640)  # 4.2 in per scenario x 6.4 in, at 100 dpi
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20) or ()) > 20


def test_the_figures_round_trip_through_json(tmp_path: Path) -> None:
    result = _synthetic()
    result.write_json(tmp_path / "bench.json")
    assert SweepResult.read_json(tmp_path / "bench.json") == result


def test_concurrencies_parse_in_order_once_each() -> None:
    assert parse_concurrencies("1,4,16,32,64,4") == CONCURRENCY
    with pytest.raises(ValueError, match="at least 1"):
        parse_concurrencies("0,4")


def test_the_command_line_refuses_a_plot_without_a_sweep(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench.parse_args(["--plot", "x.png"])
    assert exit_.value.code == 2
    assert "--plot draws a sweep or a soak: give --sweep or --soak too" in capsys.readouterr().err
    args = bench.parse_args(["--sweep", "1,4", "--scenarios", "rerank,embed_dense"])
    assert (args.sweep, args.scenarios) == ([1, 4], ["embed_dense", "rerank"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--sweep", "1,x"])


def test_a_plot_without_matplotlib_names_the_bench_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = bench.find_spec
    monkeypatch.setattr(bench, "find_spec", lambda n: None if n == "matplotlib" else real(n))
    assert bench.main(["--sweep", "1", "--plot", "x.png"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(
        "--plot draws with matplotlib, in the bench extra: pip install -e '.[bench]'"
    )
