"""Bodies nested deeper than any decoder recurses (SPEC §4): ``{"sentences": [[[[…]]]]}`` a
thousand levels deep, or a hundred thousand, gets a 400 JSON error that says so, on every route
the OpenAPI document lists with a request body, and the server serves everyone else meanwhile.
Over real HTTP, against the shared server on the tiny models.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.helpers import ServerProcess

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

DEPTHS = (1_000, 100_000)

#: a request each body route accepts, sent while the deep ones are in flight
VALID = {
    "/embeddings": {"sentences": ["a well-formed text"]},
    "/rerank": {"query": "q", "passages": ["a", "b"]},
    "/v1/embeddings": {"input": "hello"},
    "/v1/rerank": {"query": "q", "documents": ["a", "b"]},
    "/v2/rerank": {"query": "q", "documents": [{"text": "a"}]},
    "/v1/embed": {"texts": ["hello"], "embedding_types": ["int8"]},
    "/v2/embed": {"inputs": [{"content": [{"type": "text", "text": "hello"}]}]},
}


def body_routes(client: httpx.Client) -> dict[str, str]:
    """Every (POST) path in the document that takes a body → its body's first required field."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    routes = {}
    for path, item in document["paths"].items():
        body = item.get("post", {}).get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        # a path with two bodies (the native and TEI's /rerank) documents them as oneOf
        alternatives = schema.get("oneOf", [schema])
        if "$ref" in alternatives[0]:
            schema = schemas[alternatives[0]["$ref"].rpartition("/")[2]]
        fields = schema.get("required") or list(schema.get("properties", {}))
        if fields:
            routes[path] = fields[0]
    return routes


def deep_bodies(field: str, depth: int) -> dict[str, bytes]:
    arrays = b"[" * depth + b"]" * depth
    return {
        "in-the-field": b'{"%s": %s}' % (field.encode(), arrays),
        "the-whole-body": arrays,
        "objects-in-an-unknown-field": (
            b'{"extra": '
            + b'{"a": ' * depth
            + b"1"
            + b"}" * depth
            + b', "%s": []}' % field.encode()
        ),
    }


@pytest.fixture(scope="module")
def routes(server_http: httpx.Client) -> dict[str, str]:
    found = body_routes(server_http)
    assert set(VALID) <= set(found), set(VALID) - set(found)
    return found


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_nesting_is_a_400_that_says_so(
    routes: dict[str, str], server_http: httpx.Client, server: ServerProcess, depth: int
) -> None:
    log_before = len(server.log())
    for path, field in routes.items():
        for shape, body in deep_bodies(field, depth).items():
            r = server_http.post(path, content=body, headers={"content-type": "application/json"})
            where = f"{path} {shape}"
            assert r.status_code == 400, (where, r.text[:300])
            assert r.headers["content-type"].startswith("application/json"), where
            error = r.json()
            if "error_type" in error:  # a TEI route: TEI's error body
                assert "nested too deeply" in error["error"], (where, error)
                continue
            assert error["status_code"] == 400, where
            assert "nested too deeply" in error["detail"], (where, error)
            assert error["error"]["message"] == error["detail"], where
    assert "Traceback" not in server.log()[log_before:]


def test_everyone_else_is_served_while_deep_bodies_arrive(
    routes: dict[str, str], server_http: httpx.Client
) -> None:
    deep = [
        (path, body)
        for path, field in routes.items()
        for body in deep_bodies(field, 100_000).values()
    ]

    def send_deep(item: tuple[str, bytes]) -> int:
        path, body = item
        return server_http.post(path, content=body).status_code

    def send_valid(item: tuple[str, dict[str, Any]]) -> int:
        path, body = item
        return server_http.post(path, json=body).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        refused = pool.map(send_deep, deep * 4)
        served = pool.map(send_valid, list(VALID.items()) * 4)
        assert set(refused) == {400}
        assert set(served) == {200}
