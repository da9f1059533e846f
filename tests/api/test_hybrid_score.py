"""bge-m3's hybrid score (POST /hybrid_score, and bge-m3 as a rerank model) against
FlagEmbedding's ``BGEM3FlagModel.compute_score`` on the tiny model: every mode within 1e-5."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from litestar.testing import TestClient

from tests.api.conftest import API_TOKEN
from tests.helpers import ServerProcess, wait_ready

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

QUERY = "what is a cat"
PASSAGES = [
    "a cat is a small domesticated carnivorous mammal",
    "the stock market fell sharply on monday",
    "cats sleep most of the day",
    "Ein kurzer deutscher Satz über Katzen und Hunde, die im Garten spielen.",
    "what is a cat",
    "cats sleep most of the day",  # a repeat: embedded once
]
WEIGHTS = [[0.4, 0.2, 0.4], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.5, 0.3]]


@pytest.fixture(scope="module")
def flag_model(tiny_models: dict[str, Path]) -> Any:
    from FlagEmbedding import BGEM3FlagModel

    return BGEM3FlagModel(str(tiny_models["bge-m3"]), use_fp16=False, devices="cpu")


def reference(flag_model: Any, weights: list[float]) -> dict[str, np.ndarray]:
    scores = flag_model.compute_score(
        [(QUERY, p) for p in PASSAGES], weights_for_different_modes=weights
    )
    return {mode: np.array(values) for mode, values in scores.items()}


def by_index(results: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([r[key] for r in sorted(results, key=lambda r: r["index"])])


@pytest.mark.parametrize("weights", WEIGHTS)
def test_every_mode_matches_flagembedding_over_http(
    server_http: httpx.Client, flag_model: Any, weights: list[float]
) -> None:
    r = server_http.post(
        "/hybrid_score", json={"query": QUERY, "passages": PASSAGES, "weights": weights}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"results", "model_name", "weights", "processing_time_ms", "warnings"}
    assert body["weights"] == weights
    results = body["results"]
    assert sorted(r["index"] for r in results) == list(range(len(PASSAGES)))
    assert [set(r) for r in results] == [
        {"index", "passage", "score", "dense", "sparse", "colbert"}
    ] * len(PASSAGES)
    expected = reference(flag_model, weights)
    np.testing.assert_allclose(by_index(results, "dense"), expected["dense"], atol=1e-5)
    np.testing.assert_allclose(by_index(results, "sparse"), expected["sparse"], atol=1e-5)
    np.testing.assert_allclose(by_index(results, "colbert"), expected["colbert"], atol=1e-5)
    np.testing.assert_allclose(
        by_index(results, "score"), expected["colbert+sparse+dense"], atol=1e-5
    )
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        assert r["passage"] == PASSAGES[r["index"]]


def test_default_weights_are_flagembeddings_04_02_04(
    client: TestClient,  # type: ignore[type-arg]
    flag_model: Any,
) -> None:
    body = client.post("/hybrid_score", json={"query": QUERY, "passages": PASSAGES}).json()
    assert body["weights"] == [0.4, 0.2, 0.4]
    expected = reference(flag_model, [0.4, 0.2, 0.4])["colbert+sparse+dense"]
    np.testing.assert_allclose(by_index(body["results"], "score"), expected, atol=1e-5)


def test_each_distinct_text_runs_one_pass(client: TestClient) -> None:  # type: ignore[type-arg]
    before = client.get("/stats").json()["totals"]
    r = client.post("/hybrid_score", json={"query": QUERY, "passages": PASSAGES, "top_n": 2})
    assert r.status_code == 200, r.text
    after = client.get("/stats").json()["totals"]
    # the query is also passage 4 and passage 5 repeats passage 2: five distinct texts
    assert after["batch_items"] - before["batch_items"] == len(set([QUERY, *PASSAGES])) == 5
    assert len(r.json()["results"]) == 2


@pytest.mark.parametrize(
    ("weights", "param"),
    [([0, 0, 0], "weights"), ([0.5, 0.5], "weights"), ([-1, 1, 1], "weights")],
)
def test_bad_weights_are_a_400_naming_weights(
    client: TestClient,  # type: ignore[type-arg]
    weights: list[float],
    param: str,
) -> None:
    r = client.post(
        "/hybrid_score", json={"query": QUERY, "passages": PASSAGES, "weights": weights}
    )
    assert r.status_code == 400, r.text
    assert "weights" in r.json()["detail"]


def test_truncated_texts_are_warned(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post("/hybrid_score", json={"query": QUERY, "passages": ["short", "word " * 700]})
    assert r.status_code == 200, r.text
    warnings = r.json()["warnings"]
    assert [(w["code"], w["target"]["pointer"]) for w in warnings] == [
        ("passage_truncated", "/passages/1")
    ]
    assert warnings[0]["details"]["max_tokens"] == 512


def hybrid(client: TestClient, passages: list[str]) -> dict[int, float]:  # type: ignore[type-arg]
    results = client.post("/hybrid_score", json={"query": QUERY, "passages": passages}).json()
    return {r["index"]: r["score"] for r in results["results"]}


def test_v1_rerank_and_native_rerank_may_name_bge_m3(
    client: TestClient,  # type: ignore[type-arg]
    tiny_models: dict[str, Path],
) -> None:
    bge_m3 = str(tiny_models["bge-m3"])
    expected = hybrid(client, PASSAGES)
    r = client.post("/v1/rerank", json={"model": bge_m3, "query": QUERY, "documents": PASSAGES})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == bge_m3
    got = {x["index"]: x["relevance_score"] for x in body["results"]}
    assert got == pytest.approx(expected, abs=1e-6)
    assert [x["index"] for x in body["results"]] == sorted(expected, key=lambda i: -expected[i])

    r = client.post("/rerank", json={"model": bge_m3, "query": QUERY, "passages": PASSAGES})
    assert r.status_code == 200, r.text
    assert r.json()["model_name"] == bge_m3
    got = {x["index"]: x["score"] for x in r.json()["results"]}
    assert got == pytest.approx(expected, abs=1e-6)

    # without a model, and without RERANK_WITH_BGE_M3, the cross-encoder still reranks
    plain = client.post("/rerank", json={"query": QUERY, "passages": PASSAGES}).json()
    assert plain["model_name"] == str(tiny_models["bge-reranker"])


@pytest.fixture()
def bge_m3_reranks(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with make_client(rerank_with_bge_m3=True) as client:
        wait_ready(client)
        yield client


def test_the_setting_makes_bge_m3_the_reranker_of_every_route(
    bge_m3_reranks: TestClient,  # type: ignore[type-arg]
    tiny_models: dict[str, Path],
) -> None:
    client = bge_m3_reranks
    expected = hybrid(client, PASSAGES)
    native = client.post("/rerank", json={"query": QUERY, "passages": PASSAGES}).json()
    assert native["model_name"] == str(tiny_models["bge-m3"])
    assert {x["index"]: x["score"] for x in native["results"]} == pytest.approx(expected, abs=1e-6)
    tei = client.post("/rerank", json={"query": QUERY, "texts": PASSAGES}).json()
    assert {x["index"]: x["score"] for x in tei} == pytest.approx(expected, abs=1e-6)
    cohere = client.post("/v1/rerank", json={"query": QUERY, "documents": PASSAGES}).json()
    assert {x["index"]: x["relevance_score"] for x in cohere["results"]} == pytest.approx(
        expected, abs=1e-6
    )
    # the cross-encoder is still there by its name
    named = client.post(
        "/v1/rerank",
        json={"model": str(tiny_models["bge-reranker"]), "query": QUERY, "documents": PASSAGES},
    ).json()
    assert named["model"] == str(tiny_models["bge-reranker"])
    assert {x["index"]: x["relevance_score"] for x in named["results"]} != pytest.approx(
        expected, abs=1e-6
    )


# --- docs/clients.md: the hybrid score's snippet runs against a real server
DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"


def hybrid_snippet() -> str:
    text = DOC.read_text()
    start = text.index("\n## bge-m3 hybrid score")
    section = text[start : text.index("\n## ", start + 1)]
    (code,) = re.findall(r"^```python\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    return code


def test_the_client_guide_snippet_gives_flagembeddings_scores(
    server: ServerProcess, flag_model: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = hybrid_snippet().replace("http://localhost:8000", server.url)
    namespace: dict[str, Any] = {}
    exec(
        compile(code.replace("Bearer unused", f"Bearer {API_TOKEN}"), "clients.md", "exec"),
        namespace,
    )
    body = namespace["response"].json()
    passages = [
        "The stock market closed higher on Friday.",
        "Photosynthesis turns light, water and carbon dioxide into sugar.",
    ]
    expected = flag_model.compute_score(
        [("How do plants make food?", p) for p in passages],
        weights_for_different_modes=[0.4, 0.2, 0.4],
    )
    for result in body["results"]:
        i = result["index"]
        assert result["score"] == pytest.approx(expected["colbert+sparse+dense"][i], abs=1e-5)
        assert result["colbert"] == pytest.approx(expected["colbert"][i], abs=1e-5)
    best = namespace["best"]
    assert best == body["results"][0]
    assert capsys.readouterr().out.split()[0] == str(best["index"])
