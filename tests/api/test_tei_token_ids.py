"""TEI's token-id inputs and ``/predict``'s lone texts, over real HTTP against real servers.

A text's token ids, as ``/tokenize`` gives them, are the model's input as it is: ``/embed``,
``/embed_sparse`` and ``/embed_all`` give them the vectors of the text they came from (the tiny
bge-m3's three heads, and the offline preset's real MiniLM weights); an over-long id list is
cut as the text is, or refused with TEI's 413. A cross-encoder scores a lone text as a one-text
input, as transformers scores it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tests.api.tei_native import ATOL, DIM, MAX_TOKENS, TEXTS, as_sparse, assert_sparse_equal
from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

LONG = " ".join(f"w{i}" for i in range(700))  # well over the tiny models' 512 tokens


def post_ok(http: httpx.Client, path: str, body: object) -> Any:
    r = http.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def ids_of(http: httpx.Client, texts: list[str]) -> list[list[int]]:
    """Each text's token ids as ``/tokenize`` gives them (special tokens included)."""
    tokens = post_ok(http, "/tokenize", {"inputs": texts})
    return [[token["id"] for token in text] for text in tokens]


# --- the same vectors as the text: bge-m3's dense, sparse and ColBERT vectors ---
def test_embed_ids_give_the_texts_dense_vectors(server_http: httpx.Client) -> None:
    ids = ids_of(server_http, TEXTS)
    want = np.array(post_ok(server_http, "/embed", {"inputs": TEXTS}))
    assert want.shape == (len(TEXTS), DIM)
    np.testing.assert_allclose(post_ok(server_http, "/embed", {"inputs": ids}), want, atol=ATOL)
    # one text as its ids (TEI: a flat list of ids is one input)
    one = post_ok(server_http, "/embed", {"inputs": ids[2]})
    np.testing.assert_allclose(one, want[2:3], atol=ATOL)
    # texts and id lists in one batch, in input order
    mixed = [TEXTS[0], ids[1], TEXTS[2], ids[3]]
    np.testing.assert_allclose(post_ok(server_http, "/embed", {"inputs": mixed}), want, atol=ATOL)
    raw = post_ok(server_http, "/embed", {"inputs": ids, "normalize": False})
    want_raw = post_ok(server_http, "/embed", {"inputs": TEXTS, "normalize": False})
    np.testing.assert_allclose(raw, want_raw, atol=ATOL)


def test_embed_sparse_ids_give_the_texts_lexical_weights(server_http: httpx.Client) -> None:
    ids = ids_of(server_http, TEXTS)
    want = post_ok(server_http, "/embed_sparse", {"inputs": TEXTS})
    got = post_ok(server_http, "/embed_sparse", {"inputs": [ids[0], TEXTS[1], *ids[2:]]})
    assert len(got) == len(TEXTS)
    for mine, theirs in zip(got, want, strict=True):
        assert_sparse_equal(as_sparse(mine), as_sparse(theirs))
    # bge-m3's weights are keyed by these very ids (its special tokens dropped)
    assert set(as_sparse(got[0])) <= set(ids[0][1:-1])


def test_embed_all_ids_give_the_texts_colbert_vectors(server_http: httpx.Client) -> None:
    ids = ids_of(server_http, TEXTS[:3])
    want = post_ok(server_http, "/embed_all", {"inputs": TEXTS[:3]})
    got = post_ok(server_http, "/embed_all", {"inputs": ids})
    for mine, theirs, text_ids in zip(got, want, ids, strict=True):
        rows = np.array(mine)
        assert rows.shape == (len(text_ids) - 1, DIM)  # a vector per token after <s>
        np.testing.assert_allclose(rows, np.array(theirs), atol=ATOL)


# --- cut by the rule a text is cut by, or refused with TEI's 413 ---
@pytest.mark.parametrize("direction", ["Right", "Left"])
def test_over_long_ids_are_cut_as_the_text_is(server_http: httpx.Client, direction: str) -> None:
    (ids,) = ids_of(server_http, [LONG])
    assert len(ids) > MAX_TOKENS
    options = {"truncation_direction": direction}
    want = post_ok(server_http, "/embed", {"inputs": LONG, **options})
    r = server_http.post("/embed", json={"inputs": ids, **options})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json(), want, atol=ATOL)
    assert r.headers["x-compute-tokens"] == str(MAX_TOKENS)  # what the model ran on
    sparse = post_ok(server_http, "/embed_sparse", {"inputs": [ids], **options})
    want_sparse = post_ok(server_http, "/embed_sparse", {"inputs": [LONG], **options})
    assert_sparse_equal(as_sparse(sparse[0]), as_sparse(want_sparse[0]))


def test_ids_without_special_tokens_are_cut_themselves(server_http: httpx.Client) -> None:
    (ids,) = ids_of(server_http, [LONG])
    bare = ids[1:-1]
    r = server_http.post("/embed", json={"inputs": bare})
    assert r.status_code == 200, r.text
    assert r.headers["x-compute-tokens"] == str(MAX_TOKENS)
    # the first 512 of them, as given: the same vector as those ids sent uncut
    np.testing.assert_allclose(
        r.json(), post_ok(server_http, "/embed", {"inputs": bare[:MAX_TOKENS]}), atol=ATOL
    )
    left = post_ok(server_http, "/embed", {"inputs": bare, "truncation_direction": "Left"})
    np.testing.assert_allclose(
        left, post_ok(server_http, "/embed", {"inputs": bare[-MAX_TOKENS:]}), atol=ATOL
    )


def test_truncate_false_refuses_over_long_ids_with_teis_413(server_http: httpx.Client) -> None:
    (ids,) = ids_of(server_http, [LONG])
    for path in ("/embed", "/embed_sparse", "/embed_all"):
        r = server_http.post(path, json={"inputs": [ids[:10], ids], "truncate": False})
        assert r.status_code == 413, r.text
        body = r.json()
        assert body["error_type"] == "Validation"
        assert body["error"].startswith(
            f"Input validation error: `inputs` must have less than {MAX_TOKENS} tokens. "
            f"Given: {len(ids)}"
        )
        assert "text 1 of the request" in body["error"]
    fits = post_ok(server_http, "/embed", {"inputs": ids[:10], "truncate": False})
    assert np.array(fits).shape == (1, DIM)


# --- /tokenize lists given ids as they are ---
def test_tokenize_lists_given_ids(server_http: httpx.Client) -> None:
    text = "Cats eat meat."
    (from_text,) = post_ok(server_http, "/tokenize", {"inputs": text})
    ids = [token["id"] for token in from_text]
    both = post_ok(server_http, "/tokenize", {"inputs": [text, ids]})
    assert both[0] == from_text
    listed = both[1]
    assert [t["id"] for t in listed] == ids
    assert [t["special"] for t in listed] == [t["special"] for t in from_text]
    assert all(t["start"] is None and t["stop"] is None for t in listed)
    assert [t["text"] for t in listed[:1] + listed[-1:]] == ["<s>", "</s>"]
    assert "".join(t["text"] for t in listed[1:-1]) == text  # each id's own text
    # add_special_tokens and prompt_name shape a text; given ids are listed as given
    plain = post_ok(server_http, "/tokenize", {"inputs": [ids], "add_special_tokens": False})
    assert [t["id"] for t in plain[0]] == ids


# --- /predict: a lone text on the cross-encoder, as transformers scores it ---
@pytest.fixture(scope="module")
def lone_logits(tiny_models: dict[str, Path]) -> dict[str, float]:
    path = tiny_models["bge-reranker"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        return {
            text: float(model(**tokenizer(text, return_tensors="pt")).logits[0, 0])
            for text in TEXTS
        }


def test_predict_scores_a_lone_text(
    server_http: httpx.Client, lone_logits: dict[str, float]
) -> None:
    text = TEXTS[0]
    want = lone_logits[text]
    for inputs in (text, [text]):  # a string, or a list of one: one input
        single = post_ok(server_http, "/predict", {"inputs": inputs, "raw_scores": True})
        assert isinstance(single, list) and len(single) == 1
        assert single[0]["label"] == "LABEL_0"
        assert single[0]["score"] == pytest.approx(want, abs=ATOL)
    sigmoid = post_ok(server_http, "/predict", {"inputs": text})[0]["score"]
    assert sigmoid == pytest.approx(1 / (1 + np.exp(-want)), abs=ATOL)


def test_predict_batches_lone_texts_with_pairs(
    server_http: httpx.Client, lone_logits: dict[str, float]
) -> None:
    pair = ["what do cats eat", TEXTS[0]]
    inputs = [[TEXTS[1]], pair, [TEXTS[3]]]
    batch = post_ok(server_http, "/predict", {"inputs": inputs, "raw_scores": True})
    assert [len(p) for p in batch] == [1, 1, 1]
    (pair_alone,) = post_ok(server_http, "/predict", {"inputs": pair, "raw_scores": True})
    want = [lone_logits[TEXTS[1]], pair_alone["score"], lone_logits[TEXTS[3]]]
    np.testing.assert_allclose([p[0]["score"] for p in batch], want, atol=ATOL)


def test_predict_truncates_a_lone_text_or_refuses_it(server_http: httpx.Client) -> None:
    cut = post_ok(server_http, "/predict", {"inputs": LONG})
    assert len(cut) == 1
    r = server_http.post("/predict", json={"inputs": [[LONG]], "truncate": False})
    assert r.status_code == 413, r.text
    assert "must have less than 512 tokens" in r.json()["error"]


# --- MiniLM, with its real weights (the offline preset) ---
def test_minilm_ids_give_the_texts_vectors(offline_server: ServerProcess) -> None:
    with httpx.Client(base_url=offline_server.url, timeout=60) as http:
        ids = ids_of(http, TEXTS)
        assert all(i[0] == 101 and i[-1] == 102 for i in ids)  # BERT's [CLS] ... [SEP]
        want = np.array(post_ok(http, "/embed", {"inputs": TEXTS}))
        assert want.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(post_ok(http, "/embed", {"inputs": ids}), want, atol=ATOL)
        # cut as the text is: [CLS], the first 254 word pieces, [SEP] (MiniLM takes 256)
        (long_ids,) = ids_of(http, [LONG])
        np.testing.assert_allclose(
            post_ok(http, "/embed", {"inputs": long_ids}),
            post_ok(http, "/embed", {"inputs": LONG}),
            atol=ATOL,
        )
        # past BERT's 30,522 ids is a 422 that names the id
        r = http.post("/embed", json={"inputs": [101, 30_522, 102]})
        assert r.status_code == 422, r.text
        assert r.json()["error"].startswith("inputs[1] is token id 30522, which ")


def test_inputs_of_one_token_or_special_tokens_only(server_http: httpx.Client) -> None:
    # no ColBERT vector follows <s> in [5]; </s> is the one after it in [0, 2]
    colbert = post_ok(server_http, "/embed_all", {"inputs": [[5], [0, 2]]})
    assert [np.array(rows).reshape(-1, DIM).shape[0] for rows in colbert] == [0, 1]
    # bge-m3's lexical weights leave its special tokens out
    assert post_ok(server_http, "/embed_sparse", {"inputs": [[0, 2]]}) == [[]]
    assert np.array(post_ok(server_http, "/embed", {"inputs": [5]})).shape == (1, DIM)
