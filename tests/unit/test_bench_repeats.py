"""The bench's repeating workload (--repeat-share): exactly that share of texts repeat a text
of an earlier request; the default keeps every text distinct."""

from __future__ import annotations

from app.bench.workload import Workload


def texts_of(workload: Workload) -> list[list[str]]:
    return [body["sentences"] for body in workload.bodies()]


def test_default_workloads_keep_every_text_distinct() -> None:
    for scenario in ("embed_dense", "embed_full"):
        flat = [t for chunk in texts_of(Workload(scenario, 4, 50)) for t in chunk]
        assert len(set(flat)) == len(flat) == 200


def test_a_share_of_texts_repeats_an_earlier_requests_text() -> None:
    chunks = texts_of(Workload("embed_dense", 4, 100, lengths="short", repeat_share=0.3))
    seen: set[str] = set()
    repeats = 0
    for chunk in chunks:
        for text in chunk:
            if text in seen:
                repeats += 1
        assert len(set(chunk)) == len(chunk)  # repeats come from earlier requests only
        seen.update(chunk)
    assert repeats == 120  # 30% of 400
    assert len(seen) == 280
    # deterministic: the same workload twice is the same texts
    assert chunks == texts_of(Workload("embed_dense", 4, 100, lengths="short", repeat_share=0.3))
