"""TEI 1.9.3's published contract (huggingface/text-embeddings-inference, ``docs/openapi.json``),
written down here as expectations, against a real server on the tiny models.

The shapes below are read from TEI's schema and restated as test code: ``Info``'s properties
with their types (and which are required), ``Input`` (a string, an array of token ids, or an
array of either) and ``PredictInput`` (a string, a pair, or a batch of one-string and
two-string arrays). Every shape is answered by every route that takes it, and is valid by this
server's own ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from tests.api.tei_native import QUERY, TEXTS

#: the session servers of tests/api/conftest.py start once a run: every file using them is one group
pytestmark = pytest.mark.xdist_group("api-servers")

#: TEI's JSON types, as JSON Schema names them
STRING, INTEGER, BOOLEAN, OBJECT = "string", "integer", "boolean", "object"

#: TEI's ``Info``: property -> (its type, required, may be null)
TEI_INFO: dict[str, tuple[str, bool, bool]] = {
    "model_id": (STRING, True, False),
    "served_model_name": (STRING, True, False),
    "model_sha": (STRING, False, True),
    "model_dtype": (STRING, True, False),
    "model_type": (OBJECT, True, False),
    "max_concurrent_requests": (INTEGER, True, False),
    "max_input_length": (INTEGER, True, False),
    "max_batch_tokens": (INTEGER, True, False),
    "max_batch_requests": (INTEGER, False, True),
    "max_client_batch_size": (INTEGER, True, False),
    "auto_truncate": (BOOLEAN, True, False),
    "tokenization_workers": (INTEGER, True, False),
    "version": (STRING, True, False),
    "sha": (STRING, False, True),
    "docker_label": (STRING, False, True),
}
#: TEI's ``ModelType``: exactly one of these, each an object with these required properties
TEI_MODEL_TYPES: dict[str, set[str]] = {
    "classifier": {"id2label", "label2id"},
    "embedding": {"pooling"},
    "reranker": {"id2label", "label2id"},
}


def tei_info_schema() -> dict[str, Any]:
    """TEI's ``Info`` as a JSON Schema, from the expectations above."""
    properties: dict[str, Any] = {}
    for name, (kind, _, nullable) in TEI_INFO.items():
        typed: dict[str, Any] = {"type": [kind, "null"] if nullable else kind}
        if kind == INTEGER:
            typed["minimum"] = 0
        properties[name] = typed
    properties["model_type"] = {
        "oneOf": [
            {
                "type": OBJECT,
                "required": [variant],
                "properties": {
                    variant: {"type": OBJECT, "required": sorted(fields)},
                },
            }
            for variant, fields in TEI_MODEL_TYPES.items()
        ]
    }
    required = [name for name, (_, is_required, _) in TEI_INFO.items() if is_required]
    return {"type": OBJECT, "required": required, "properties": properties}


def test_info_has_every_property_of_teis_info_with_its_type(server_http: httpx.Client) -> None:
    info = server_http.get("/info").json()
    jsonschema.validate(info, tei_info_schema())
    assert set(TEI_INFO) <= set(info)  # the optional ones too: null where there is no value
    assert info["served_model_name"] == info["model_id"]  # no served names set on this server


# --- TEI's Input: every shape, on every route that takes it ---
IDS = [0, 18826, 7, 73203, 2]  # "Cats eat" as the XLM-R tokenizer gives it, <s> and </s> included
#: each shape of TEI's ``Input`` -> how many inputs it is
INPUT_SHAPES: list[tuple[str, Any, int]] = [
    ("a string", TEXTS[0], 1),
    ("an array of token ids", IDS, 1),
    ("an array of strings", TEXTS[:2], 2),
    ("an array of token-id arrays", [IDS, IDS[:3]], 2),
    ("an array of strings and token-id arrays", [TEXTS[0], IDS, TEXTS[1]], 3),
]
INPUT_ROUTES = ["/embed", "/embed_sparse", "/embed_all", "/tokenize", "/"]


def our_body_validator(http: httpx.Client, path: str) -> jsonschema.Draft202012Validator:
    document = http.get("/openapi.json").json()
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return jsonschema.Draft202012Validator({**body["schema"], "components": document["components"]})


@pytest.mark.parametrize("path", INPUT_ROUTES)
@pytest.mark.parametrize(
    ("inputs", "count"),
    [pytest.param(inputs, count, id=name) for name, inputs, count in INPUT_SHAPES],
)
def test_every_shape_of_teis_input_is_answered(
    server_http: httpx.Client, path: str, inputs: Any, count: int
) -> None:
    body = {"inputs": inputs}
    errors = [e.message for e in our_body_validator(server_http, path).iter_errors(body)]
    assert errors == [], errors  # our document says it is valid
    r = server_http.post(path, json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert isinstance(answer, list) and len(answer) == count


# --- TEI's PredictInput: every shape ---
PREDICT_SHAPES: list[tuple[str, Any, int | None]] = [
    ("a string", TEXTS[0], None),
    ("a pair", [QUERY, TEXTS[0]], None),
    ("a string in an array of one", [TEXTS[0]], None),
    ("a batch of pairs", [[QUERY, TEXTS[0]], [QUERY, TEXTS[1]]], 2),
    ("a batch of one-string arrays", [[TEXTS[0]], [TEXTS[1]]], 2),
    ("a batch of both", [[TEXTS[2]], [QUERY, TEXTS[3]], [TEXTS[0]]], 3),
]


@pytest.mark.parametrize(
    ("inputs", "batch"),
    [pytest.param(inputs, batch, id=name) for name, inputs, batch in PREDICT_SHAPES],
)
def test_every_shape_of_teis_predict_input_is_answered(
    server_http: httpx.Client, inputs: Any, batch: int | None
) -> None:
    body = {"inputs": inputs}
    errors = [e.message for e in our_body_validator(server_http, "/predict").iter_errors(body)]
    assert errors == [], errors
    r = server_http.post("/predict", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    # TEI's PredictResponse: a list of predictions for one input, a list of those for a batch
    predictions = [answer] if batch is None else answer
    assert len(predictions) == (batch or 1)
    for prediction in predictions:
        assert len(prediction) == 1
        assert set(prediction[0]) == {"score", "label"}
        assert 0 <= prediction[0]["score"] <= 1
