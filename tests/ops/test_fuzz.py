"""Schemathesis against our own ``/openapi.json``, served by a real ``python -m app serve`` on
the tiny models (SPEC §1.3, §4): every documented operation, inference and operations alike,
gets generated requests, schema-valid and schema-violating, under every Schemathesis check. No
answer may be a 5xx, every answer must match what the document says (status code, content
type, body schema, headers), every schema-valid request must be accepted and every
schema-violating one refused, and the server logs no traceback.

The server runs with small, non-default limits, so the document must show the values this
server runs with (not the defaults) for "valid by the schema" to mean "accepted". Their
product stays under the total-characters limits, which JSON Schema cannot state.

A model name that is not served is a 404, which the document lists and Schemathesis allows.
Schemathesis runs with its own statuses for refusing schema-violating data (no 413): the
document says the rest of what the server accepts (``app.api.openapi.bodies``):

- the native bodies' booleans take 0 and 1, as the original service's did, and their schema
  says so; the other families' booleans are JSON ``true``/``false`` only, and 0 or 1 is refused;
- TEI's routes answer a request over a count or size limit with TEI's 413, and their bodies
  state those limits as extension keywords (``x-max-items``, ``x-max-length``), not as schema
  bounds: a schema-valid request over one is sent, and must get that 413;
- a number in a string, or "null", is read as that number or null: each body's description
  says so, as JSON Schema cannot, so a schema-violating body that reads as a valid one that
  way is not sent as negative data.

Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run on
pytest 9 (it writes ``node._nodeid``, which pytest 9 removed), so each operation is driven here
through its Hypothesis strategy, ``APIOperation.as_strategy``.

Bounded for a 2-core machine: a fixed seed, ``MAX_EXAMPLES`` cases per operation and mode,
loopback only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api.cohere.embed_schemas import CohereEmbedRequest
from app.api.cohere.rerank_schemas import CompatRerankRequest
from app.api.native.chunking_schemas import DEFAULT_CHUNK_TOKENS
from app.api.native.hybrid import HybridScoreRequest
from app.api.native.schemas import EmbeddingRequest, RerankRequest
from app.api.openai.schemas import OpenAIEmbeddingRequest
from app.api.tei.schemas import (
    TeiDecodeRequest,
    TeiEmbedRequest,
    TeiInputsRequest,
    TeiPredictRequest,
    TeiRerankRequest,
    TeiSimilarityRequest,
    TeiTokenizeRequest,
)
from tests.helpers import ServerProcess

#: cases per operation and mode; ``SCHEMATHESIS_MAX_EXAMPLES`` raises it for a longer hunt
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
#: a fixed seed keeps CI reproducible; ``SCHEMATHESIS_SEED`` explores elsewhere
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "6"))
#: the slowest answer any check accepts, seconds: far above a tiny model's worst case on a busy
#: 2-core machine, so it fails only on a request that hangs
MAX_RESPONSE_TIME = 30.0

#: limits the document must show (the defaults are 128 texts of 20,000 characters)
LIMITS = {
    "MAX_SENTENCES_PER_REQUEST": "12",
    "MAX_SENTENCE_CHARS": "300",
    # a document sent for chunking (a million characters by default: beyond what Hypothesis
    # generates, so its schema-violating length could not be sent)
    "MAX_DOCUMENT_CHARS": "2000",
    "MAX_RERANK_PASSAGES": "10",
    "MAX_RERANK_TEXT_CHARS": "400",
}

#: every operation the document must describe (SPEC §1); a route dropped from it fails here
OPERATIONS = [
    ("POST", "/embeddings"),
    ("POST", "/rerank"),
    ("POST", "/hybrid_score"),
    ("POST", "/v1/embeddings"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/v1/rerank"),
    ("POST", "/v2/rerank"),
    ("POST", "/v1/embed"),
    ("POST", "/v2/embed"),
    ("GET", "/health"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/stats"),
    ("GET", "/metrics"),
    # Hugging Face TEI's routes (/rerank above takes TEI's body too)
    ("POST", "/embed"),
    ("POST", "/embed_sparse"),
    ("POST", "/embed_all"),
    ("POST", "/similarity"),
    ("POST", "/predict"),
    ("POST", "/tokenize"),
    ("POST", "/decode"),
    ("GET", "/info"),
    ("POST", "/"),
    ("POST", "/invocations"),
]


#: the structs each body route decodes (its handler's ``data``; /rerank and TEI's POST / tell
#: two bodies apart)
BODIES: dict[str, tuple[type[msgspec.Struct], ...]] = {
    "/embeddings": (EmbeddingRequest,),
    "/rerank": (RerankRequest, TeiRerankRequest),
    "/hybrid_score": (HybridScoreRequest,),
    "/v1/embeddings": (OpenAIEmbeddingRequest,),
    "/v1/rerank": (CompatRerankRequest,),
    "/v2/rerank": (CompatRerankRequest,),
    "/v1/embed": (CohereEmbedRequest,),
    "/v2/embed": (CohereEmbedRequest,),
    "/embed": (TeiEmbedRequest,),
    "/embed_sparse": (TeiInputsRequest,),
    "/embed_all": (TeiInputsRequest,),
    "/similarity": (TeiSimilarityRequest,),
    "/predict": (TeiPredictRequest,),
    "/tokenize": (TeiTokenizeRequest,),
    "/decode": (TeiDecodeRequest,),
    "/": (TeiEmbedRequest, TeiRerankRequest),
    "/invocations": (TeiEmbedRequest, TeiRerankRequest),
}


#: the extension keywords of TEI's size limits, and the JSON Schema bounds they stand for
SIZE_LIMITS = {"x-max-items": "maxItems", "x-max-length": "maxLength"}


def fuzz_config() -> SchemathesisConfig:
    # every check, positive data acceptance included, each with Schemathesis' own expected
    # statuses; max_response_time runs only with a limit
    return SchemathesisConfig.from_dict(
        {"checks": {"enabled": True, "max_response_time": MAX_RESPONSE_TIME}}
    )


class LogWatch:
    """The server's log as it grows: each read returns only what was written since the last."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            text = log.read()
        self.offset += len(text)
        return text.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def fuzz_server(server_env: dict[str, str]) -> Iterator[ServerProcess]:
    # Default queue bounds and timeouts; rate limiting stays off (server_env).
    with ServerProcess({**server_env, **LIMITS}) as server:
        server.wait_ready()
        yield server
    # Whatever ran in this module, and in whatever order: nothing it sent, and nothing at
    # shutdown, was logged as an unhandled error.
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-4000:]


@pytest.fixture(scope="module")
def log_watch(fuzz_server: ServerProcess) -> LogWatch:
    return LogWatch(fuzz_server.log_path)


Validators = dict[str, jsonschema.Draft202012Validator]


def validators_of(document: dict[str, Any]) -> Validators:
    """Each body route's request body as ``document`` states it."""
    validators = {}
    for path, item in document["paths"].items():
        if "requestBody" in item.get("post", {}):
            ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            schema = {**ref, "components": document["components"]}
            validators[path] = jsonschema.Draft202012Validator(schema)
    assert set(validators) == set(BODIES), set(validators) ^ set(BODIES)
    return validators


def with_size_limits_as_bounds(schema: Any) -> Any:
    """A copy of ``schema`` whose size-limit extensions are the JSON Schema bounds they state."""
    if isinstance(schema, list):
        return [with_size_limits_as_bounds(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {SIZE_LIMITS.get(k, k): with_size_limits_as_bounds(v) for k, v in schema.items()}


@pytest.fixture(scope="module")
def document(fuzz_server: ServerProcess) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    return document


@pytest.fixture(scope="module")
def body_validators(document: dict[str, Any]) -> Validators:
    """Each body route's request body as the document states it."""
    return validators_of(document)


@pytest.fixture(scope="module")
def within_size_limits(document: dict[str, Any]) -> Validators:
    """Each body route's request body held to the size limits its document states (TEI's)."""
    stated = json.dumps(document)
    assert all(f'"{extension}"' in stated for extension in SIZE_LIMITS), "no size limits stated"
    return validators_of(with_size_limits_as_bounds(document))


def over_a_size_limit(case: schemathesis.Case, within: Validators) -> bool:
    """Whether this body is over a size limit that the document states as an extension."""
    return case.path in within and not within[case.path].is_valid(case.body)


def reads_as_valid(case: schemathesis.Case, validators: Validators) -> bool:
    """Whether the server reads this body (as Litestar converts it: ``strict=False``) as one
    the document calls valid: a number or null sent as a string, as each body's description
    says (the native booleans' 0 and 1 are in the schema, and the others' refused)."""
    if case.path not in BODIES or not isinstance(case.body, dict):
        return False
    for struct in BODIES[case.path]:
        try:
            read = msgspec.to_builtins(msgspec.convert(case.body, struct, strict=False))
        except (msgspec.ValidationError, TypeError):
            continue
        # the fields a body decodes to, and the keys that tell two bodies apart
        read.update({key: case.body[key] for key in ("texts", "passages") if key in case.body})
        if validators[case.path].is_valid(read):
            return True
    return False


def overlaps_a_whole_chunk(case: schemathesis.Case) -> bool:
    """``chunking.overlap_tokens`` not below ``max_tokens`` (its default where left out): a rule
    between two fields, which JSON Schema cannot state; the server refuses it with a 422 that
    names the field (the document says so), so no valid case breaks it."""
    chunking = case.body.get("chunking") if isinstance(case.body, dict) else None
    if not isinstance(chunking, dict):
        return False
    try:
        size = int(chunking.get("max_tokens") or DEFAULT_CHUNK_TOKENS)
        return int(chunking.get("overlap_tokens") or 0) >= size
    except (TypeError, ValueError):
        return False


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerProcess) -> schemathesis.BaseSchema:
    url = f"{fuzz_server.url}/openapi.json"
    # The server builds its document on the first request (about 2-3 s of CPU, from the loaded
    # models); Schemathesis reads it with a 10 s timeout, which a loaded CI machine can pass.
    # Built once, it is served from memory.
    httpx.get(url, timeout=300).raise_for_status()
    return schemathesis.openapi.from_url(url, config=fuzz_config())


def test_the_document_lists_every_route(api_schema: schemathesis.BaseSchema) -> None:
    results = list(api_schema.get_all_operations())
    broken = [result for result in results if not isinstance(result, Ok)]
    assert not broken, broken
    listed = {(r.ok().method.upper(), r.ok().path) for r in results if isinstance(r, Ok)}
    assert set(OPERATIONS) <= listed, set(OPERATIONS) - listed


def test_every_check_is_on(api_schema: schemathesis.BaseSchema) -> None:
    load_all_checks()
    config = api_schema.config.checks_config_for()
    off = [n for n in CHECKS.get_all_names() if not config.get_by_name(name=n).enabled]
    assert not off, off
    assert config.max_response_time.enabled


def test_the_document_states_the_limits_this_server_runs_with(fuzz_server: ServerProcess) -> None:
    schemas = httpx.get(f"{fuzz_server.url}/openapi.json").json()["components"]["schemas"]
    embedding = schemas["EmbeddingRequest"]
    sentences = embedding["properties"]["sentences"]
    assert (sentences["minItems"], sentences["maxItems"]) == (1, 12)
    # each text's length and their sum: without chunking, and with it (MAX_DOCUMENT_CHARS)
    whole, chunked = (embedding[b]["properties"]["sentences"] for b in ("else", "then"))
    assert (sentences["items"]["minLength"], whole["items"]["maxLength"]) == (1, 300)
    assert whole["x-max-total-chars"] == 250_000
    assert chunked["items"]["maxLength"] == chunked["x-max-total-chars"] == 2000
    text, texts = schemas["OpenAIEmbeddingRequest"]["properties"]["input"]["anyOf"]
    assert (text["maxLength"], texts["maxItems"], texts["items"]["maxLength"]) == (300, 12, 300)
    rerank = schemas["RerankRequest"]["properties"]
    assert rerank["query"]["maxLength"] == 400
    assert (rerank["passages"]["maxItems"], rerank["passages"]["items"]["maxLength"]) == (10, 400)
    assert rerank["top_n"]["anyOf"][0]["minimum"] == 1
    documents = schemas["CompatRerankRequest"]["properties"]["documents"]
    assert (documents["minItems"], documents["maxItems"]) == (1, 10)
    assert schemas["RerankDocument"]["properties"]["text"]["maxLength"] == 400
    # the tiny bge-m3 has no Matryoshka dimensions: the document does not offer them
    dimensions = schemas["OpenAIEmbeddingRequest"]["properties"]["dimensions"]
    assert dimensions["type"] == "null"
    # TEI's bodies take the same limits, as size limits (over them: TEI's 413): a text, one
    # text's token ids (an id counts as a character), or a list of either; ids are the served
    # vocabulary's
    text, ids, batch = schemas["TeiEmbedRequest"]["properties"]["inputs"]["anyOf"]
    assert (text["x-max-length"], batch["x-max-items"], batch["minItems"]) == (300, 12, 1)
    assert (ids["minItems"], ids["x-max-items"]) == (1, 300)
    assert (ids["items"]["minimum"], ids["items"]["maximum"]) == (0, 250_001)
    assert batch["items"]["anyOf"] == [text, ids]
    assert schemas["TeiEmbedRequest"]["properties"]["dimensions"]["type"] == "null"
    texts = schemas["TeiRerankRequest"]["properties"]["texts"]
    assert (texts["minItems"], texts["x-max-items"], texts["items"]["x-max-length"]) == (1, 10, 400)
    sentences = schemas["TeiSimilarityInput"]["properties"]["sentences"]
    assert (sentences["x-max-items"], sentences["items"]["x-max-length"]) == (12, 300)


#: (method, path, mode): schema-violating input exists only for operations that take a body
#: or a parameter (``model_id``: a name the server lists); the other GET routes take none
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or method == "POST" or "{" in path
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_errors_and_every_answer_matches_the_document(
    api_schema: schemathesis.BaseSchema,
    fuzz_server: ServerProcess,
    log_watch: LogWatch,
    body_validators: Validators,
    within_size_limits: Validators,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    log_watch.new()  # what earlier tests left is theirs

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # a failing case is reported as found: shrinking would cost minutes on 2 cores
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        if mode is GenerationMode.NEGATIVE and reads_as_valid(case, body_validators):
            reject()
        if mode is GenerationMode.POSITIVE and overlaps_a_whole_chunk(case):
            reject()
        if mode is GenerationMode.POSITIVE and over_a_size_limit(case, within_size_limits):
            # valid by the schema, over a limit the document states beside it: TEI's 413
            response = case.call_and_validate(
                base_url=fuzz_server.url,
                timeout=MAX_RESPONSE_TIME * 2,
                excluded_checks=[positive_data_acceptance],
            )
            assert response.status_code == 413, response.text[:300]
        else:
            case.call_and_validate(base_url=fuzz_server.url, timeout=MAX_RESPONSE_TIME * 2)
        # the server logs an unhandled error before it answers, so this case caused any here
        logged = log_watch.new()
        assert "Traceback" not in logged, logged[-4000:]

    run()
