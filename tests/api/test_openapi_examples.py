"""The OpenAPI document as a reference: every request field says what it does and, when it
may be left out, its default; every "Try it out" example is a body the server answers with a
200, on the offline preset where it has the models the route needs, and on a server with
every role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.api.openapi.examples import EXAMPLES
from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

#: what the offline preset serves (``app.models.presets``)
_OFFLINE_ROLES = {"dense", "sparse"}
#: the error each missing role gets, as the route's body says it
_MISSING = {"rerank": "reranker", "colbert": "colbert"}


def _examples(document: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            examples = body["content"]["application/json"].get("examples")
            assert examples, f"{method.upper()} {path} has no example"
            for name, example in examples.items():
                yield method, path, name, example


def test_every_example_is_in_the_table_and_every_route_has_one(
    offline_server: ServerProcess,
) -> None:
    document = httpx.get(f"{offline_server.url}/openapi.json", timeout=30).json()
    found = {(method, path, name) for method, path, name, _ in _examples(document)}
    listed = {(m, p, name) for (m, p), examples in EXAMPLES.items() for name in examples}
    assert found == listed


def test_examples_succeed_on_the_offline_preset(offline_server: ServerProcess) -> None:
    document = httpx.get(f"{offline_server.url}/openapi.json", timeout=30).json()
    answered = 0
    with httpx.Client(base_url=offline_server.url, timeout=60) as client:
        for method, path, name, example in _examples(document):
            needs = EXAMPLES[(method, path)][name].needs
            r = client.request(method, path, json=example["value"])
            missing = needs - _OFFLINE_ROLES
            if not missing:
                assert r.status_code == 200, (path, name, r.text)
                answered += 1
                continue
            # a route whose model the preset lacks says so, and the example says it needs it
            assert r.status_code in (400, 424), (path, name, r.text)
            assert all(_MISSING[role] in r.text for role in missing), (path, r.text)
            assert "the offline preset has none" in example["description"]
    assert answered >= 11


def test_examples_succeed_with_every_role(server: ServerProcess, server_http: httpx.Client) -> None:
    # tiny bge-m3 (dense, sparse, ColBERT) and a tiny bge reranker: the default models' roles
    document = server_http.get("/openapi.json").json()
    examples = list(_examples(document))
    for method, path, name, example in examples:
        r = server_http.request(method, path, json=example["value"])
        assert r.status_code == 200, (path, name, r.text)
    assert len(examples) == sum(len(named) for named in EXAMPLES.values())


def _referenced(document: dict[str, Any], node: Any, seen: set[str]) -> set[str]:
    if isinstance(node, dict):
        if ref := node.get("$ref"):
            name = ref.rpartition("/")[2]
            if name not in seen:
                seen.add(name)
                _referenced(document, document["components"]["schemas"][name], seen)
        for value in node.values():
            _referenced(document, value, seen)
    elif isinstance(node, list):
        for value in node:
            _referenced(document, value, seen)
    return seen


@pytest.mark.parametrize("kind", ["offline", "every role"])
def test_every_request_field_has_a_description_and_its_default(
    kind: str, request: pytest.FixtureRequest
) -> None:
    running: ServerProcess = request.getfixturevalue(
        "offline_server" if kind == "offline" else "server"
    )
    document = httpx.get(f"{running.url}/openapi.json", timeout=30).json()
    bodies = [
        op["requestBody"]
        for item in document["paths"].values()
        for op in item.values()
        if "requestBody" in op
    ]
    components = _referenced(document, bodies, set())
    assert {"EmbeddingRequest", "RerankRequest", "TeiSimilarityInput"} <= components
    lacking = []
    for name in sorted(components):
        schema = document["components"]["schemas"][name]
        # a field one of the body's alternatives requires (Cohere's texts or inputs), or one
        # never allowed ({"not": {}}), has no default to state
        required = {f for alternative in schema.get("oneOf", ()) for f in alternative["required"]}
        required |= set(schema.get("required", ()))
        for field, prop in schema.get("properties", {}).items():
            if not prop.get("description"):
                lacking.append(f"{name}.{field}: description")
            if field not in required and "default" not in prop and prop.get("not") != {}:
                lacking.append(f"{name}.{field}: default")
    assert lacking == []
    embedding = document["components"]["schemas"]["EmbeddingRequest"]["properties"]
    # left out, what the loaded models give is returned: MiniLM dense and SPLADE sparse, or
    # all three from bge-m3
    defaults = [embedding[f"return_{head}"]["default"] for head in ("dense", "sparse", "colbert")]
    assert defaults == [True, True, kind != "offline"]
