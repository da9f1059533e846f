"""docs/clients.md, sections before the TEI one: every snippet runs as written against a
server of each kind its ``<!-- snippet runs-with: ... -->`` comment names, and fails with the
message the guide promises where it names a model the server lacks. (The TEI section's
snippets run in ``test_tei_clients.py``.)

"default" is the default models' roles under their names: a tiny bge-m3 served as
``BAAI/bge-m3``, a tiny bge reranker as ``BAAI/bge-reranker-v2-m3``; "offline" is
``serve --preset offline`` with its real MiniLM and SPLADE weights.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.helpers import REPO, ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

DOC = REPO / "docs" / "clients.md"
DOC_URL = "http://localhost:8000"
_SNIPPET = re.compile(
    r"^<!-- snippet runs-with: (?P<kinds>[a-z, ]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
_NO_RERANKER = "reranking is not available: no reranker model is configured"
#: how a snippet fails on a server without the model it needs, where that is not a reranker
_WITHOUT_ITS_MODEL = {
    "Cohere embed": "model 'BAAI/bge-m3' is not served here",
    "bge-m3 hybrid score": "400 Bad Request",
    "ColBERT pooling": "400 Bad Request",
}


@dataclass(frozen=True)
class Snippet:
    section: str
    language: str
    code: str
    runs_with: frozenset[str]


def _head_of_the_guide() -> str:
    text = DOC.read_text()
    return text[: text.index("\n## TEI")]


def snippets() -> list[Snippet]:
    found = []
    for chunk in re.split(r"^(?=## )", _head_of_the_guide(), flags=re.MULTILINE)[1:]:
        section = chunk.splitlines()[0].removeprefix("## ").split(":")[0].strip()
        for match in _SNIPPET.finditer(chunk):
            kinds = frozenset(kind.strip() for kind in match["kinds"].split(","))
            found.append(Snippet(section, match["lang"], match["code"], kinds))
    return found


def test_every_snippet_says_which_models_it_runs_with() -> None:
    fences = re.findall(r"^```\w+$", _head_of_the_guide(), flags=re.MULTILINE)
    assert len(snippets()) == len(fences) == 9
    assert all(s.runs_with <= {"default", "offline"} and s.runs_with for s in snippets())


@pytest.fixture(scope="module")
def default_server(tiny_models: dict[str, Path]) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "BGE_M3_MODEL": str(tiny_models["bge-m3"]),
            "BGE_M3_SERVED_MODEL_NAME": "BAAI/bge-m3",
            "RERANKER_MODEL": str(tiny_models["bge-reranker"]),
            "RERANKER_SERVED_MODEL_NAME": "BAAI/bge-reranker-v2-m3",
            "DEVICE": "cpu",
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        }
    )
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _run(snippet: Snippet, server: ServerProcess) -> tuple[dict[str, Any], str]:
    """The snippet's namespace (Python) and what it printed."""
    code = snippet.code.replace(DOC_URL, server.url)
    if snippet.language == "bash":
        code = code.replace("localhost:8000", server.url.removeprefix("http://"))
        done = subprocess.run(["bash", "-c", code], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return {}, done.stdout
    assert snippet.language == "python"
    assert DOC_URL not in code
    namespace: dict[str, Any] = {"__name__": "docs_snippet"}
    exec(compile(code, f"docs/clients.md ({snippet.section})", "exec"), namespace)
    return namespace, ""


def _native_best(http: httpx.Client, query: str, passages: list[str]) -> int:
    r = http.post("/rerank", json={"query": query, "passages": passages})
    assert r.status_code == 200, r.text
    return int(r.json()["results"][0]["index"])


def _check(snippet: Snippet, kind: str, ns: dict[str, Any], out: str, http: httpx.Client) -> None:
    if snippet.section == "OpenAI SDK":
        dense = {m["id"]: m for m in http.get("/v1/models").json()["data"]}
        expected = "BAAI/bge-m3" if kind == "default" else "sentence-transformers/all-MiniLM-L6-v2"
        assert ns["model"] == expected
        assert [len(v) for v in ns["vectors"]] == [dense[expected]["dimension"]] * 2
        assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in ns["vectors"])
    elif snippet.section == "Cohere client" and snippet.language == "python":
        documents = [
            "The stock market closed higher on Friday.",
            "Photosynthesis turns light, water and carbon dioxide into sugar.",
        ]
        assert ns["best"].index == _native_best(http, "How do plants make food?", documents)
        assert 0 <= ns["best"].relevance_score <= 1
    elif snippet.section == "Cohere client":
        body = json.loads(out)
        (result,) = body["results"]
        assert result["document"]["text"] in {"Stocks rose.", "Photosynthesis makes sugar."}
    elif snippet.section == "Cohere embed":  # its values: test_cohere_embed.py
        assert ns["floats"].shape[0] == ns["int8"].shape[0] == len(ns["passages"]) == 2
        assert ns["best"] in ns["passages"]  # a tiny random model: which one is arbitrary
    elif snippet.section == "bge-m3 hybrid score":  # its values: test_hybrid_score.py
        assert ns["best"]["index"] in (0, 1)
        assert set(ns["best"]) >= {"score", "dense", "sparse", "colbert"}
    elif snippet.section == "Qdrant":
        assert ns["has_colbert"] is (kind == "default")
        text = ns["hits"][0].payload["text"]
        assert text in ns["corpus"]
        if kind == "offline":  # real MiniLM and SPLADE weights: the answer is known
            assert text == "Photosynthesis converts sunlight into chemical energy in plants."
    elif snippet.section == "ColBERT pooling":  # its values: test_colbert_options.py
        assert ns["hits"][0].payload["text"] in ns["corpus"]
        for item in ns["documents"]:
            info = item["colbert_info"]
            assert info["pool_factor"] == 2 and info["type"] == "float16"
            assert info["vectors_after_pooling"] <= -(-info["vectors_before_pooling"] // 2)
            assert len(item["embeddings"]["colbert"]) == info["vectors_after_pooling"]
    elif snippet.section == "Indexers":
        assert ns["served_as"] == "batch"
        assert len(ns["vectors"]) == 2
    elif snippet.section == "Long documents":  # their values: test_chunking.py
        document, chunks = ns["document"], ns["chunks"]
        assert len(chunks) > 1
        assert all(document[c["start"] : c["end"]] == c["text"] for c in chunks)
        if kind == "offline":  # real MiniLM weights: the chunk that tells of the closure
            assert "1987" in ns["hit"].payload["text"]
    else:
        raise AssertionError(f"no check for the {snippet.section} snippet: add one here")


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        pytest.param(s, kind, id=f"{s.section} {s.language} {kind}")
        for s in snippets()
        for kind in ("default", "offline")
    ],
)
def test_snippet_runs_where_it_says(
    snippet: Snippet, kind: str, request: pytest.FixtureRequest, capsys: Any
) -> None:
    server: ServerProcess = request.getfixturevalue(f"{kind}_server")
    with httpx.Client(base_url=server.url, timeout=60) as http:
        if kind not in snippet.runs_with:
            # the guide says this one needs a model the server lacks: it fails saying so
            expected = _WITHOUT_ITS_MODEL.get(snippet.section, _NO_RERANKER)
            if snippet.language == "bash":
                assert expected in _run(snippet, server)[1]
            else:
                with pytest.raises(Exception, match=re.escape(expected)):
                    _run(snippet, server)
            return
        namespace, out = _run(snippet, server)
        _check(snippet, kind, namespace, out, http)
        assert out.strip() or capsys.readouterr().out.strip(), "the snippet prints what it got"
