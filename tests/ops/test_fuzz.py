"""Schemathesis against our own ``/openapi.json``, served by a real ``python -m app serve`` on
the tiny models (SPEC §1.3, §4): every documented operation, inference and operations alike,
gets generated requests, schema-valid and schema-violating; no answer may be a 5xx, and every
answer must match what the document says (status code, content type, body schema, headers).

Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run on
pytest 9 (it writes ``node._nodeid``, which pytest 9 removed), so each operation is driven here
through its Hypothesis strategy, ``APIOperation.as_strategy``.

Bounded for a 2-core machine: a fixed seed, ``MAX_EXAMPLES`` cases per operation and mode,
loopback only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from tests.helpers import ServerProcess

#: cases per operation and mode; ``SCHEMATHESIS_MAX_EXAMPLES`` raises it for a longer hunt
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
#: a fixed seed keeps CI reproducible; ``SCHEMATHESIS_SEED`` explores elsewhere
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "6"))

#: every operation the document must describe (SPEC §1); a route dropped from it fails here
OPERATIONS = [
    ("POST", "/embeddings"),
    ("POST", "/rerank"),
    ("POST", "/v1/embeddings"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/v1/rerank"),
    ("POST", "/v2/rerank"),
    ("GET", "/health"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/stats"),
    ("GET", "/metrics"),
]


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "checks": {
                # Schema-valid data may still be refused: limits are settings (MAX_SENTENCES_*),
                # empty texts are a 400 (SPEC §1.1), and a model name must be a served one.
                "positive_data_acceptance": {"enabled": False},
            },
        }
    )


@pytest.fixture(scope="module")
def fuzz_server(server_env: dict[str, str]) -> Iterator[ServerProcess]:
    # Default limits, queue bounds and timeouts; rate limiting stays off (server_env).
    with ServerProcess(server_env) as server:
        server.wait_ready()
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server: ServerProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", config=fuzz_config())


def test_the_document_lists_every_route(api_schema: schemathesis.BaseSchema) -> None:
    results = list(api_schema.get_all_operations())
    broken = [result for result in results if not isinstance(result, Ok)]
    assert not broken, broken
    listed = {(r.ok().method.upper(), r.ok().path) for r in results if isinstance(r, Ok)}
    assert set(OPERATIONS) <= listed, set(OPERATIONS) - listed


#: (method, path, mode): schema-violating input exists only for operations that take a body
#: (``model_id`` is any string, the GET routes take no parameters)
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or method == "POST"
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_errors_and_every_answer_matches_the_document(
    api_schema: schemathesis.BaseSchema,
    fuzz_server: ServerProcess,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]

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
        case.call_and_validate(base_url=fuzz_server.url, timeout=30)

    run()


def test_the_server_logged_no_traceback(fuzz_server: ServerProcess) -> None:
    """Runs after the fuzzing above (same module, same server): nothing it sent was logged as
    an unhandled error."""
    log = fuzz_server.log()
    assert "Traceback" not in log, log[-4000:]
