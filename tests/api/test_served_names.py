"""Served model names (SPEC §1.2) on a real server: each model answers to the names the
operator gave its roles (``*_SERVED_MODEL_NAME``) and to the directory it was configured
with; responses report the first name; ``/v1/models`` lists every name; any other name is a
404 that lists them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.helpers import REPO, ServerProcess

DENSE_NAMES = ["text-embedding-3-small", "my-embedder"]
BGE_M3_NAMES = ["m3"]
RERANK_NAMES = ["rerank-v3.5", "jina-reranker-v2-base-multilingual"]
QUERY = "how do plants make food"
DOCUMENTS = ["Photosynthesis turns light into sugar.", "The market closed higher."]


@pytest.fixture(scope="module")
def named(tiny_models: dict[str, Path]) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "BGE_M3_MODEL": str(tiny_models["bge-m3"]),
            "RERANKER_MODEL": str(tiny_models["bge-reranker"]),
            # spaces and a repeat: the list an operator types, not a tidy one
            "DENSE_SERVED_MODEL_NAME": " , ".join(DENSE_NAMES) + ",my-embedder",
            "BGE_M3_SERVED_MODEL_NAME": ",".join(BGE_M3_NAMES),
            "RERANKER_SERVED_MODEL_NAME": ",".join(RERANK_NAMES),
            "DEVICE": "cpu",
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        }
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def http(named: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=named.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def dirs(tiny_models: dict[str, Path]) -> tuple[str, str]:
    return str(tiny_models["bge-m3"]), str(tiny_models["bge-reranker"])


def test_models_lists_every_name_with_its_model(http: httpx.Client, dirs: tuple[str, str]) -> None:
    bge, reranker = dirs
    listed = http.get("/v1/models").json()["data"]
    assert [m["id"] for m in listed] == [*DENSE_NAMES, *BGE_M3_NAMES, bge, *RERANK_NAMES, reranker]
    for model in listed:
        if model["id"] in (*RERANK_NAMES, reranker):
            assert (model["root"], model["roles"]) == (reranker, ["rerank"])
        else:
            assert (model["root"], model["roles"]) == (bge, ["dense", "sparse", "colbert"])


def test_every_listed_name_retrieves(http: httpx.Client) -> None:
    for model in http.get("/v1/models").json()["data"]:
        name = model["id"]
        # a directory is already absolute: /v1/models/tmp/...; a name needs its slash
        r = http.get(f"/v1/models{name}" if name.startswith("/") else f"/v1/models/{name}")
        assert r.status_code == 200, (name, r.text)
        assert r.json() == model


def test_embeddings_answer_to_each_name_and_report_the_first(
    named: ServerProcess, dirs: tuple[str, str]
) -> None:
    oai = openai.OpenAI(base_url=f"{named.url}/v1", api_key="unused", max_retries=0)
    for name in [*DENSE_NAMES, *BGE_M3_NAMES, dirs[0]]:
        response = oai.embeddings.create(input=["hello", "world"], model=name)
        assert response.model == DENSE_NAMES[0], name
        assert len(response.data) == 2
    r = httpx.post(f"{named.url}/v1/embeddings", json={"input": "hello"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == DENSE_NAMES[0]  # model left out


def test_rerank_answers_to_each_name_and_reports_the_first(
    http: httpx.Client, dirs: tuple[str, str]
) -> None:
    for path in ("/v1/rerank", "/v2/rerank"):
        for name in [*RERANK_NAMES, dirs[1], None]:
            body = {"query": QUERY, "documents": DOCUMENTS, **({"model": name} if name else {})}
            r = http.post(path, json=body)
            assert r.status_code == 200, (path, name, r.text)
            assert r.json()["model"] == RERANK_NAMES[0]


def test_native_routes_report_the_first_name(http: httpx.Client) -> None:
    embedded = http.post("/embeddings/", json={"sentences": ["hello"]}).json()
    assert embedded["model_name"] == embedded["dense_model_name"] == DENSE_NAMES[0]
    assert embedded["sparse_model_name"] == embedded["colbert_model_name"] == DENSE_NAMES[0]
    reranked = http.post("/rerank", json={"query": QUERY, "passages": DOCUMENTS}).json()
    assert reranked["model_name"] == RERANK_NAMES[0]


def test_teis_info_reports_the_dense_models_first_name(http: httpx.Client) -> None:
    info = http.get("/info").json()
    assert info["served_model_name"] == DENSE_NAMES[0]


def test_an_unknown_name_is_a_404_that_lists_the_served_names(
    http: httpx.Client, dirs: tuple[str, str]
) -> None:
    every = [*DENSE_NAMES, *BGE_M3_NAMES, dirs[0], *RERANK_NAMES, dirs[1]]
    listed = ", ".join(f"'{name}'" for name in every)
    embed = http.post("/v1/embeddings", json={"input": "hi", "model": "bge-m3"})
    rerank = http.post("/v1/rerank", json={"query": QUERY, "documents": DOCUMENTS, "model": "x"})
    retrieve = http.get("/v1/models/BAAI/no-such-model")
    for r, name in ((embed, "bge-m3"), (rerank, "x"), (retrieve, "BAAI/no-such-model")):
        assert r.status_code == 404, r.text
        assert f"model '{name}' is not served here; served models: {listed}" in r.text


def test_a_name_of_the_other_model_says_which_to_use(http: httpx.Client) -> None:
    wrong = http.post("/v1/embeddings", json={"input": "hi", "model": RERANK_NAMES[1]})
    assert wrong.status_code == 400, wrong.text
    assert wrong.json()["error"]["message"] == (
        f"model '{RERANK_NAMES[1]}' serves rerank here, not dense; "
        f"use '{DENSE_NAMES[0]}' or leave model out"
    )
    # bge-m3 reranks too (its hybrid score), by any of its names
    body = {"query": QUERY, "documents": DOCUMENTS, "model": "m3"}
    hybrid = http.post("/v1/rerank", json=body)
    assert hybrid.status_code == 200, hybrid.text
    assert hybrid.json()["model"] == BGE_M3_NAMES[0]


def test_one_name_for_two_models_fails_start_up(tiny_models: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--reranker-served-model-name", "shared"],
        cwd=REPO,
        env={
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "BGE_M3_MODEL": str(tiny_models["bge-m3"]),
            "RERANKER_MODEL": str(tiny_models["bge-reranker"]),
            "DENSE_SERVED_MODEL_NAME": "shared",
            "DEVICE": "cpu",
            "PORT": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"smart-embedder: served model name 'shared' is given to two models, "
        f"{tiny_models['bge-m3']} and {tiny_models['bge-reranker']}; "
        "give each model names of its own (*_SERVED_MODEL_NAME)"
    )
