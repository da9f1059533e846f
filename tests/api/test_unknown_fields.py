"""Unknown request fields on the native routes: accepted, ignored, and named in ``warnings``
(issue 17: ``return_colbertt: false`` used to be a silent 200 with ColBERT vectors)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

TEXTS = ["a cat sat on the mat", "stocks fell: 3% by noon", "hello", "world"]
PASSAGES = ["a cat is a small mammal", "the market fell", "cats sleep", "earnings beat"]


def unknown(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["warnings"] if w["code"] == "unknown_field"]


def test_a_misspelt_option_is_named_and_has_no_effect(server_http: httpx.Client) -> None:
    clean = server_http.post("/embeddings/", json={"sentences": TEXTS})
    misspelt = server_http.post("/embeddings/", json={"sentences": TEXTS, "return_colbertt": False})
    assert clean.status_code == misspelt.status_code == 200, misspelt.text
    assert unknown(clean.json()) == []
    [warning] = unknown(misspelt.json())
    assert warning["severity"] == "warning"
    assert warning["target"] == {
        "field": "return_colbertt",
        "index": None,
        "pointer": "/return_colbertt",
    }
    assert "return_colbertt" in warning["message"]
    assert "details" not in warning
    # ignored: the vectors (ColBERT included) are those of the body without it
    assert [d["embeddings"] for d in misspelt.json()["data"]] == [
        d["embeddings"] for d in clean.json()["data"]
    ]


def test_every_unknown_field_is_named_in_body_order(server_http: httpx.Client) -> None:
    body = {
        "normalise_dense": True,
        "sentences": TEXTS,
        "return_dense": True,
        "a/b~c": 1,
        "retrun_sparse": False,
    }
    r = server_http.post("/embeddings/", json=body)
    assert r.status_code == 200, r.text
    pointers = [w["target"]["pointer"] for w in unknown(r.json())]
    # RFC 6901: "~" is written "~0" and "/" "~1"
    assert pointers == ["/normalise_dense", "/a~1b~0c", "/retrun_sparse"]


@pytest.mark.parametrize(
    "body",
    [
        {"sentences": TEXTS},
        {"sentences": ["key: value", '{"x": 1}'], "return_sparse": True, "normalize_dense": False},
    ],
    ids=["plain", "options-and-colons-in-texts"],
)
def test_a_clean_body_has_no_unknown_field_warning(
    server_http: httpx.Client, body: dict[str, Any]
) -> None:
    r = server_http.post("/embeddings/", json=body)
    assert r.status_code == 200, r.text
    assert unknown(r.json()) == []


def test_rerank_names_an_unknown_field_and_ignores_it(server_http: httpx.Client) -> None:
    clean = server_http.post("/rerank", json={"query": "cats", "passages": PASSAGES})
    misspelt = server_http.post(
        "/rerank", json={"query": "cats", "passages": PASSAGES, "top_nn": 1}
    )
    assert clean.status_code == misspelt.status_code == 200, misspelt.text
    assert unknown(clean.json()) == []
    assert [w["target"]["pointer"] for w in unknown(misspelt.json())] == ["/top_nn"]
    assert misspelt.json()["results"] == clean.json()["results"]  # all four: top_n not set


def test_an_unknown_field_is_logged_at_debug(
    client: TestClient,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="app.api.common.unknown_fields"):
        r = client.post("/embeddings/", json={"sentences": TEXTS, "return_colbertt": False})
    assert r.status_code == 200, r.text
    [record] = [r for r in caplog.records if r.name == "app.api.common.unknown_fields"]
    assert record.levelno == logging.DEBUG
    assert "/return_colbertt" in record.getMessage()
