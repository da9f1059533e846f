"""Bad input against a real server (SPEC §1.3, §4): wrong types, nulls, unknown enum values,
lone surrogates, 1 MB strings, 10 000-item lists, malformed JSON, invalid UTF-8 and wrong
content types each get a clear 4xx JSON body that names the field, while a well-behaved client
sending valid requests the whole time sees nothing but 200s.

Content types: a JSON body is read as JSON when it comes with no Content-Type, ``text/plain``
(Postman's "raw" default) or ``application/x-www-form-urlencoded`` (what ``curl -d`` sends
unless told otherwise), as most embedding servers do; a body that says it is something else
(multipart, MessagePack) is a 415 that names ``application/json``.

Every test here checks the bystander after its own requests, so each verdict stands in any
order and in any selection of these tests.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.helpers import ServerProcess
from tests.ops.load import HANG_GUARD_S, engine_paused, engine_pid, wait_until
from tests.ops.metrics_text import value

#: these tests share the session's default server (tests/ops/conftest.py)
pytestmark = pytest.mark.xdist_group("ops-default-server")

JSON = "application/json"
MB_STRING = "x" * 1_000_000
MANY = ["a"] * 10_000


@dataclass
class Bad:
    """One bad request and what its answer must say."""

    path: str
    body: bytes
    status: int
    #: the field the answer must name (in ``error.param`` when given, and in the message)
    param: str | None
    #: text the message must contain, besides the field
    says: str = ""
    content_type: str = JSON


def js(value: object) -> bytes:
    return json.dumps(value).encode()


EMBED = "/embeddings/"
CASES: dict[str, Bad] = {
    # wrong types and nulls: 400, the field (down to the item) named
    "sentences-a-string": Bad(EMBED, js({"sentences": "hello"}), 400, "sentences", "array"),
    "sentences-item-int": Bad(EMBED, js({"sentences": ["ok", 3]}), 400, "sentences[1]", "str"),
    "sentences-null": Bad(EMBED, js({"sentences": None}), 400, "sentences", "null"),
    "sentences-item-null": Bad(EMBED, js({"sentences": ["a", None]}), 400, "sentences[1]"),
    "sentences-missing": Bad(EMBED, js({"texts": ["a"]}), 400, "sentences", "required"),
    "option-wrong-type": Bad(
        EMBED, js({"sentences": ["a"], "return_dense": "yes"}), 400, "return_dense", "bool"
    ),
    "unknown-enum": Bad(
        EMBED,
        js({"sentences": ["a"], "input_type": "passage"}),
        400,
        "input_type",
        "expected one of 'query', 'document'",
    ),
    "body-an-array": Bad(EMBED, js(["a", "b"]), 400, None, "object"),
    "body-null": Bad(EMBED, b"null", 400, None, "JSON object"),
    "body-empty": Bad(EMBED, b"", 400, None, "JSON object"),
    # empty texts (SPEC §1.1) and lone surrogates, escaped in JSON as any encoder writes them
    "sentences-empty": Bad(EMBED, js({"sentences": []}), 400, "sentences"),
    "sentence-empty": Bad(EMBED, js({"sentences": ["a", ""]}), 400, "sentences[1]", "empty"),
    "lone-high-surrogate": Bad(
        EMBED, b'{"sentences": ["ok", "a\\ud800b"]}', 400, "sentences[1]", "lone UTF-16 surrogate"
    ),
    "lone-low-surrogate": Bad(
        EMBED, b'{"sentences": ["\\udc00"]}', 400, "sentences[0]", "lone UTF-16 surrogate"
    ),
    "surrogate-at-the-end": Bad(
        EMBED, b'{"sentences": ["\\ud83d"]}', 400, "sentences[0]", "lone UTF-16 surrogate"
    ),
    # sizes: 422 over a limit (SPEC §4)
    "1mb-string": Bad(EMBED, js({"sentences": [MB_STRING]}), 422, "sentences[0]", "20000"),
    "10k-items": Bad(EMBED, js({"sentences": MANY}), 422, "sentences", "10000 items"),
    # not JSON
    "malformed-json": Bad(EMBED, b'{"sentences": ["a"', 400, None, "not valid JSON"),
    "trailing-garbage": Bad(EMBED, b'{"sentences": ["a"]} x', 400, None, "not valid JSON"),
    "invalid-utf8": Bad(EMBED, b'{"sentences": ["caf\xe9"]}', 400, None, "UTF-8"),
    # content types: a form body that is not JSON says what to send instead
    "form-body": Bad(
        EMBED,
        b"sentences=hello",
        400,
        None,
        "application/json",
        content_type="application/x-www-form-urlencoded",
    ),
    "multipart": Bad(
        EMBED,
        b'--x\r\n\r\n{"sentences": ["a"]}\r\n--x--\r\n',
        415,
        "Content-Type",
        "application/json",
        content_type="multipart/form-data; boundary=x",
    ),
    "msgpack-body": Bad(
        EMBED,
        b"\x81\xa9sentences\x91\xa1a",
        415,
        "Content-Type",
        "application/json",
        content_type="application/msgpack",
    ),
    # the other routes' fields
    "rerank-query-int": Bad("/rerank", js({"query": 5, "passages": ["a"]}), 400, "query", "str"),
    "rerank-query-1mb": Bad(
        "/rerank", js({"query": MB_STRING, "passages": ["a"]}), 422, "query", "20000"
    ),
    "rerank-10k-passages": Bad(
        "/rerank", js({"query": "q", "passages": MANY}), 422, "passages", "10000 items"
    ),
    # (a numeric string, "2", is read as 2, as pydantic-based peers and the original do)
    "rerank-top-n-string": Bad(
        "/rerank", js({"query": "q", "passages": ["a"], "top_n": "two"}), 400, "top_n", "int"
    ),
    "rerank-query-surrogate": Bad(
        "/rerank", b'{"query": "\\udbff", "passages": ["a"]}', 400, "query", "lone UTF-16 surrogate"
    ),
    "openai-input-null": Bad("/v1/embeddings", js({"input": None}), 400, "input"),
    "openai-token-ids": Bad("/v1/embeddings", js({"input": [[1, 2]]}), 400, "input[0]", "token-id"),
    "openai-format-unknown": Bad(
        "/v1/embeddings",
        js({"input": "a", "encoding_format": "int8"}),
        400,
        "encoding_format",
        "expected one of 'float', 'base64'",
    ),
    "openai-dimensions-zero": Bad(
        "/v1/embeddings", js({"input": "a", "dimensions": 0}), 400, "dimensions", ">= 1"
    ),
    "openai-10k-items": Bad("/v1/embeddings", js({"input": MANY}), 422, "input", "10000 items"),
    "openai-surrogate": Bad(
        "/v1/embeddings", b'{"input": ["a", "\\ud800"]}', 400, "input[1]", "lone UTF-16 surrogate"
    ),
    "cohere-document-no-text": Bad(
        "/v1/rerank",
        js({"query": "q", "documents": [{"txt": "a"}]}),
        400,
        "documents[0]",
        "documents[0].text is required",
    ),
    "cohere-top-n-negative": Bad(
        "/v1/rerank", js({"query": "q", "documents": ["a"], "top_n": -1}), 400, "top_n", ">= 1"
    ),
    "cohere-10k-documents": Bad(
        "/v2/rerank", js({"query": "q", "documents": MANY}), 422, "documents", "10000 items"
    ),
    "cohere-surrogate-in-object": Bad(
        "/v2/rerank",
        b'{"query": "q", "documents": [{"text": "\\ud800"}]}',
        400,
        "documents[0].text",
        "lone UTF-16 surrogate",
    ),
}


@dataclass
class Bystander:
    """A well-formed client sending valid requests one after another on its own thread."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    #: requests started; the next one to start has this number
    sent: int = 0
    errors: list[str] = field(default_factory=list)
    #: an upper bound, whatever happens to the stop signal
    max_requests: int = 100_000
    thread: threading.Thread | None = None
    #: guards every field below and ``sent``/``errors``; notified on each change
    changed: threading.Condition = field(default_factory=threading.Condition)
    #: the number of the latest request answered as it should be (-1: none yet)
    served_through: int = -1
    hold_wanted: bool = False
    parked: bool = False
    done: bool = False

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="bystander", daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        with self.changed:
            self.changed.notify_all()
        if self.thread is not None:
            self.thread.join(timeout=HANG_GUARD_S)

    def still_served(self) -> None:
        """Wait until a request the bystander sends after this call is answered: whatever
        came before, the server still serves others. Fails at once on any bad answer."""
        with self.changed:
            first_after = self.sent
            self.changed.wait_for(
                lambda: self.errors or self.done or self.served_through >= first_after,
                timeout=HANG_GUARD_S,
            )
            assert not self.errors, self.errors[:5]
            assert self.served_through >= first_after, (
                f"no valid request answered (sent {self.sent}, stopped: {self.done})"
            )

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The bystander waits between two requests until the block ends, so it has none in
        flight meanwhile."""
        with self.changed:
            self.hold_wanted = True
            assert self.changed.wait_for(lambda: self.parked or self.done, HANG_GUARD_S)
        try:
            yield
        finally:
            with self.changed:
                self.hold_wanted = False
                self.changed.notify_all()

    def run(self) -> None:
        requests = [
            (EMBED, {"sentences": ["a well-formed text", "another one"]}, "data", 2),
            ("/rerank", {"query": "q", "passages": ["a", "b", "c"]}, "results", 3),
            ("/v1/embeddings", {"input": ["hello"]}, "data", 1),
        ]
        try:
            with httpx.Client(base_url=self.url, timeout=HANG_GUARD_S) as client:
                while True:
                    with self.changed:
                        while self.hold_wanted and not self.stop.is_set():
                            self.parked = True
                            self.changed.notify_all()
                            self.changed.wait()
                        self.parked = False
                        if self.stop.is_set() or self.sent >= self.max_requests:
                            return
                        number = self.sent
                        self.sent += 1
                    path, body, key, count = requests[number % len(requests)]
                    error = None
                    try:
                        r = client.post(path, json=body)
                        if r.status_code != 200 or len(r.json()[key]) != count:
                            error = f"{path}: {r.status_code} {r.text[:200]}"
                    except (httpx.HTTPError, ValueError) as exc:
                        error = f"{path}: {type(exc).__name__}: {exc}"
                    with self.changed:
                        if error is None:
                            self.served_through = number
                        else:
                            self.errors.append(error)
                        self.changed.notify_all()
        finally:
            with self.changed:
                self.done = True
                self.changed.notify_all()


def assert_clean_log(server: ServerProcess) -> None:
    log = server.log()
    assert "Traceback" not in log and "unhandled error" not in log, log[-4000:]


@pytest.fixture(scope="module")
def server(default_server: ServerProcess) -> ServerProcess:
    return default_server


@pytest.fixture(scope="module")
def bystander(server: ServerProcess) -> Iterator[Bystander]:
    """Started before the first bad request and running through all of them; each test
    checks that it is still served (``Bystander.still_served``)."""
    client = Bystander(server.url)
    client.start()
    yield client
    client.finish()


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_gets_a_clear_4xx(
    case: Bad, server: ServerProcess, http: httpx.Client, bystander: Bystander
) -> None:
    r = http.post(case.path, content=case.body, headers={"content-type": case.content_type})
    assert r.status_code == case.status, r.text
    assert r.headers["content-type"].startswith(JSON)
    body = r.json()
    message = body["detail"]
    assert body["status_code"] == case.status
    assert body["error"]["message"] == message
    assert body["error"]["code"] == case.status
    assert "Traceback" not in message and "internal error" not in message
    if case.param is not None:
        assert body["error"]["param"] == case.param, message
        assert case.param in message
    assert case.says in message
    bystander.still_served()
    assert_clean_log(server)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        JSON,
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/vnd.api+json",
    ],
)
def test_a_json_body_is_read_as_json_whatever_it_is_labelled(
    content_type: str | None, http: httpx.Client, bystander: Bystander
) -> None:
    """``curl -d '{...}' URL`` (form-urlencoded) and Postman's raw text both just work."""
    headers = {"content-type": content_type} if content_type else {}
    r = http.post(EMBED, content=js({"sentences": ["hi"]}), headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["data"]) == 1
    bystander.still_served()


def test_a_client_that_hangs_up_is_not_an_error(
    server: ServerProcess, http: httpx.Client, bystander: Bystander
) -> None:
    """A client that disconnects while its request is queued gets nothing logged (no
    traceback) and is counted as 499, never as a 500."""
    body = js({"sentences": ["a text whose client does not wait for it"]})
    request = (
        f"POST {EMBED} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {JSON}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    before = http.get("/metrics").text

    def count(metrics: str, status: str) -> float:
        # HTTP codes are in the detailed series (the original's counts success/error)
        return value(metrics, "smart_embedder_requests_total", status=status)

    # The bystander waits meanwhile, so the one request admitted is ours; the engine is held,
    # so ours is still waiting when its client leaves, however fast the machine.
    with bystander.held(), engine_paused(engine_pid(server.url)):
        with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_GUARD_S) as sock:
            sock.sendall(request)
            wait_until(
                lambda: http.get("/stats").json()["queue"]["embed_pending"],
                lambda pending: pending >= 1,
                "the request admitted",
            )
        after = wait_until(
            lambda: http.get("/metrics").text,
            lambda metrics: count(metrics, "499") > count(before, "499"),
            "the hang-up counted as 499",
        )
    assert count(after, "499") == count(before, "499") + 1
    assert count(after, "500") == count(before, "500") == 0
    bystander.still_served()
    assert_clean_log(server)


def test_everyone_else_was_served_unharmed(server: ServerProcess, bystander: Bystander) -> None:
    """The bystander, running since this module's first test, saw only good answers and the
    log shows no traceback. (Each test above checks the same after its own requests, so this
    one is a summary, not the only check.)"""
    bystander.still_served()
    print(f"bystander: {bystander.sent} valid requests during the bad ones")
    assert_clean_log(server)
