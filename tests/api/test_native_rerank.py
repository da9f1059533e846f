"""POST /rerank — the original service's contract (SPEC §1.1), over the real app."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from litestar.testing import TestClient
from transformers import AutoModelForSequenceClassification, AutoTokenizer

PASSAGES = [
    "a cat is a small carnivorous mammal",
    "the stock market fell on monday",
    "cats sleep most of the day",
    "quarterly earnings beat expectations",
]


@pytest.fixture(scope="module")
def reference_logits(tiny_models: dict[str, Path]) -> np.ndarray:
    """The tiny reranker's logits computed directly with transformers, one pair at a time."""
    path = tiny_models["bge-reranker"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        return np.array(
            [
                model(**tokenizer("what is a cat", p, return_tensors="pt")).logits[0, 0].item()
                for p in PASSAGES
            ]
        )


def test_results_sorted_with_input_indices_and_raw_logits(
    client: TestClient,
    reference_logits: np.ndarray,
    tiny_models: dict,  # type: ignore[type-arg]
) -> None:
    r = client.post("/rerank", json={"query": "what is a cat", "passages": PASSAGES})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"results", "model_name", "processing_time_ms", "warnings"}
    assert body["model_name"] == str(tiny_models["bge-reranker"])
    results = body["results"]
    assert [set(x) for x in results] == [{"index", "passage", "score"}] * 4
    assert [x["index"] for x in results] == list(np.argsort(-reference_logits, kind="stable"))
    for x in results:
        assert x["passage"] == PASSAGES[x["index"]]
        assert x["score"] == pytest.approx(reference_logits[x["index"]], abs=1e-5)


def test_normalize_is_the_sigmoid_of_the_logit(
    client: TestClient,
    reference_logits: np.ndarray,  # type: ignore[type-arg]
) -> None:
    body = client.post(
        "/rerank", json={"query": "what is a cat", "passages": PASSAGES, "normalize": True}
    ).json()
    for x in body["results"]:
        assert 0.0 < x["score"] < 1.0
        expected = 1 / (1 + np.exp(-reference_logits[x["index"]]))
        assert x["score"] == pytest.approx(expected, abs=1e-6)


def test_top_n(client: TestClient) -> None:  # type: ignore[type-arg]
    full = client.post("/rerank", json={"query": "what is a cat", "passages": PASSAGES}).json()
    top = client.post(
        "/rerank", json={"query": "what is a cat", "passages": PASSAGES, "top_n": 2}
    ).json()
    assert top["results"] == full["results"][:2]


def test_passage_truncation_warning(client: TestClient, tiny_models: dict) -> None:  # type: ignore[type-arg]
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["bge-reranker"])
    long_passage = "reranking passages " * 300
    passage_tokens = len(tokenizer(long_passage, add_special_tokens=False)["input_ids"])
    query_tokens = len(tokenizer("query", add_special_tokens=False)["input_ids"])
    body = client.post(
        "/rerank", json={"query": "query", "passages": ["short", long_passage]}
    ).json()
    (warning,) = body["warnings"]
    assert warning["code"] == "passage_truncated"
    assert warning["target"] == {"field": "passages", "index": 1, "pointer": "/passages/1"}
    kept = 512 - 4 - query_tokens  # <s> q </s></s> p </s>
    assert warning["details"]["original_tokens"] == passage_tokens
    assert warning["details"]["truncated_tokens"] == passage_tokens - kept
    assert warning["details"]["max_tokens"] == 512


def test_long_query_is_cut_and_reported(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.post(
        "/rerank", json={"query": "long query " * 400, "passages": ["passage one"]}
    ).json()
    codes = [w["code"] for w in body["warnings"]]
    assert codes == ["query_truncated"]
    assert body["warnings"][0]["target"] == {"field": "query", "index": None, "pointer": "/query"}


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"query": "q", "passages": []}, 400, "passages must contain at least one text"),
        ({"query": "", "passages": ["p"]}, 400, "query is empty"),
        ({"query": "q", "passages": ["p", ""]}, 400, "passages[1] is empty"),
        (
            {"query": "q", "passages": ["p"] * 129},
            422,
            "at most 128 are allowed (MAX_RERANK_PASSAGES)",
        ),
        (
            {"query": "q" * 20001, "passages": ["p"]},
            422,
            "query exceeds 20000 characters (MAX_RERANK_TEXT_CHARS)",
        ),
        (
            {"query": "q", "passages": ["p" * 20001]},
            422,
            "passages[0] exceeds 20000 characters (MAX_RERANK_TEXT_CHARS)",
        ),
        ({"query": "q", "passages": ["p"], "top_n": 0}, 400, "top_n: Expected `int` >= 1"),
        ({"query": 5, "passages": ["p"]}, 400, "query"),
        ({"passages": ["p"]}, 400, "query"),
    ],
)
def test_bad_rerank_input(
    client: TestClient,
    payload: dict,
    status: int,
    message: str,  # type: ignore[type-arg]
) -> None:
    r = client.post("/rerank", json=payload)
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
