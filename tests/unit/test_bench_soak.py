"""The soak's arithmetic and inputs (app/bench/soak.py): growth over the last third, the
level verdict, the allocator read from /proc, the fixed workload."""

from __future__ import annotations

import os

import msgspec
import pytest

from app.bench.soak import (
    Sample,
    SoakResult,
    allocator,
    figures,
    rss_bytes,
    slope_per_min,
    soak_bodies,
)

MB = 2**20


def test_slope_is_megabytes_per_minute() -> None:
    assert slope_per_min([(0.0, 100.0), (60.0, 103.0), (120.0, 106.0)]) == pytest.approx(3.0)
    assert slope_per_min([(0.0, 5.0)]) == 0.0


def test_only_the_last_third_decides_whether_memory_is_level() -> None:
    # fast growth at first, then flat: level; flat at first, then growing: not
    rising_then_flat = [Sample(60.0 * i, {"engine": (100 + min(i, 6) * 50) * MB}) for i in range(9)]
    flat_then_rising = [
        Sample(60.0 * i, {"engine": (100 + max(0, i - 5) * 5) * MB}) for i in range(9)
    ]
    [levelled] = figures(rising_then_flat, {7: "engine"}, {"engine": "glibc"}, level=1.0)
    assert levelled.level and levelled.growth_mb_per_min == 0.0
    assert (levelled.start_mb, levelled.end_mb, levelled.peak_mb) == (100.0, 400.0, 400.0)
    [growing] = figures(flat_then_rising, {7: "engine"}, {}, level=1.0)
    assert not growing.level and growing.growth_mb_per_min == pytest.approx(5.0)


def test_this_process_runs_on_glibc_malloc() -> None:
    assert allocator(os.getpid()).startswith("glibc")
    assert rss_bytes(os.getpid()) > 10 * MB


def test_the_workload_mixes_embeddings_reranks_and_long_texts() -> None:
    bodies = soak_bodies(100, long_words=400)
    paths = [path for path, _, _ in bodies]
    assert paths.count("/rerank") == 10 and paths.count("/embeddings/") == 90
    longs = [msgspec.json.decode(b) for p, b, units in bodies if units == 1]
    assert len(longs) == 10
    assert max(len(body["sentences"][0].split()) for body in longs) > 200
    without = soak_bodies(100, rerank=False)
    assert all(path == "/embeddings/" for path, _, _ in without)
    assert soak_bodies(100) == bodies  # fixed: every run sends the same


def test_failed_requests_are_reported_by_their_status() -> None:
    result = SoakResult(
        "t", 60.0, [], [], requests=10, errors=3, failed_by={"504": 2, "no answer": 1}
    )
    assert "3 failed (504: 2, no answer: 1)" in result.lines()[1]
    assert "0 failed," in SoakResult("t", 60.0, [], [], requests=10).lines()[1]
