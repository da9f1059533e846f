"""The API keys file's parse, the key ring's lookup and each key's quotas, without a server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.errors import ConcurrencyLimited, RateLimited
from app.security.apikeys import ApiKey, KeyRing, key_digest
from app.security.keyfile import EXAMPLE, DefaultLimits, KeyFileError, parse_keys
from app.security.keystore import KeyStore, parse_token
from app.security.quotas import KeyQuotas
from app.settings import Settings, SettingsError

DEFAULTS = DefaultLimits(requests_per_minute=3600, burst=120)
SECRET = "sk-do-not-print-me-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_documented_example_parses() -> None:
    indexer, notebook = parse_keys(EXAMPLE.encode(), DEFAULTS)
    assert indexer.name == "indexer"
    assert indexer.digest == bytes.fromhex(
        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
    )
    assert (indexer.requests_per_minute, indexer.burst, indexer.max_concurrent) == (6000, 300, 16)
    assert indexer.routes == ("/embeddings*", "/v1/embeddings")
    assert indexer.priority == "batch" and notebook.priority is None
    assert notebook.digest == hashlib.sha256(b"nb-7f3a9c2e51d04b8e").digest()
    assert (notebook.requests_per_minute, notebook.burst, notebook.routes) == (60, 5, ())


def test_unset_limits_are_the_global_ones() -> None:
    (key,) = parse_keys(b"keys: [{name: a, key: k1}]", DEFAULTS)
    assert (key.requests_per_minute, key.burst, key.max_concurrent) == (3600, 120, 0)
    assert parse_keys(b"", DEFAULTS) == [] == parse_keys(b"keys: []", DEFAULTS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'keys: [{{name: a, key: {SECRET}, sha256: "{"0" * 64}"}}]', "exactly one"),
        ("keys: [{name: a}]", "exactly one"),
        (f"keys: [{{name: a, key: {SECRET}}}, {{name: a, key: other}}]", "same name"),
        (f"keys: [{{name: a, key: {SECRET}}}, {{name: b, key: {SECRET}}}]", "same key as 'a'"),
        (f"keys: [{{name: anonymous, key: {SECRET}}}]", "reserved"),
        (f"keys: [{{name: api_token, key: {SECRET}}}]", "reserved"),
        (f"keys: [{{name: 'a b', key: {SECRET}}}]", "keys[0].name"),
        ("keys: [{name: a, sha256: abc}]", "keys[0].sha256"),
        (f"keys: [{{name: a, key: {SECRET}, burst: 0}}]", "keys[0].burst"),
        (f"keys: [{{name: a, key: {SECRET}, rpm: 5}}]", "unknown field `rpm`"),
        (f"keys: [{{name: a, key: {SECRET}, routes: []}}]", "keys[0].routes"),
        (f"keys: [{{name: a, key: {SECRET}, routes: [embeddings]}}]", "keys[0].routes[0]"),
        (f"keys: [{{name: a, key: {SECRET}, priority: urgent}}]", "keys[0].priority"),
        (f"- name: a\n  key: {SECRET}\n", "Expected `object`"),
        (f"keys:\n  - name: a\n    key: [{SECRET}\n", "not valid YAML: line 4, column 1"),
        (f"keys:\n  - name: a\n\tkey: {SECRET}\n", "not valid YAML: line 3"),
    ],
)
def test_a_bad_file_is_named_without_quoting_it(text: str, message: str) -> None:
    with pytest.raises(KeyFileError) as caught:
        parse_keys(text.encode(), DEFAULTS)
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


def test_the_ring_matches_by_digest_only() -> None:
    keys = parse_keys(
        f"keys: [{{name: a, key: {SECRET}}}, {{name: b, key: kb}}]".encode(), DEFAULTS
    )
    ring = KeyRing(keys)
    assert ring.match(SECRET) is keys[0]
    assert ring.match("kb") is keys[1]
    assert ring.match(SECRET[:-1]) is None
    assert ring.match("") is None
    assert SECRET not in repr(keys) and SECRET not in repr(ring.__dict__)


def test_routes_are_globs_on_the_path_without_its_trailing_slash() -> None:
    (key,) = parse_keys(b"keys: [{name: a, key: k, routes: ['/embeddings/', '/v1/*']}]", DEFAULTS)
    assert key.allows("/embeddings/") and key.allows("/embeddings")
    assert key.allows("/v1/embeddings") and key.allows("/v1/models/bge-m3")
    assert not key.allows("/rerank") and not key.allows("/embed")


def _key(**limits: int) -> ApiKey:
    values = {"requests_per_minute": 60, "burst": 2, **limits}
    return ApiKey(name="a", digest=key_digest("k"), **values)  # type: ignore[arg-type]


def test_each_key_has_its_own_bucket_and_a_change_applies_to_the_next_request() -> None:
    clock = FakeClock()
    quotas = KeyQuotas(clock)
    a, b = _key(), ApiKey(name="b", digest=key_digest("kb"), requests_per_minute=60, burst=1)
    quotas.admit(a)
    quotas.admit(a)
    with pytest.raises(RateLimited, match=r"API key 'a': 2 requests at once, 60 per minute"):
        quotas.admit(a)
    quotas.admit(b)  # a's empty bucket is a's alone
    clock.now += 1.0
    quotas.admit(a)  # one token a second at 60 per minute
    # A reload raises a's rate: the next request is judged by it, with the tokens it had.
    faster = _key(requests_per_minute=600)
    clock.now += 0.1
    quotas.admit(faster)
    with pytest.raises(RateLimited) as caught:
        quotas.admit(faster)
    assert caught.value.retry_after == 1.0


def test_the_in_flight_cap_counts_until_release() -> None:
    quotas = KeyQuotas(FakeClock())
    key = _key(requests_per_minute=0, max_concurrent=2)
    quotas.admit(key)
    quotas.admit(key)
    with pytest.raises(ConcurrencyLimited, match="2 requests in flight, its max_concurrent"):
        quotas.admit(key)
    assert quotas.in_flight["a"] == 2
    quotas.release("a")
    quotas.admit(key)
    for _ in range(2):
        quotas.release("a")
    assert "a" not in quotas.in_flight


def test_the_store_reloads_on_a_content_change_and_keeps_its_keys_on_a_bad_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(f"keys: [{{name: a, key: {SECRET}}}]")
    settings = Settings(api_keys_file=str(path), api_token="legacy-token")
    store = KeyStore.from_settings(settings)
    assert store is not None
    assert store.ring.names == ["api_token", "a"]
    assert store.check() is False  # the same content: nothing to do
    path.write_text("keys: [{name: b, key: kb}]")
    assert store.check() is True
    assert store.ring.names == ["api_token", "b"]
    path.write_text("keys: [{name: b, key: kb")
    assert store.check() is False
    assert store.check() is False  # the same broken content is reported once
    assert store.ring.names == ["api_token", "b"]
    path.unlink()
    assert store.check() is False
    assert store.reloads == {"success": 1, "failure": 2}
    assert store.last_error is not None and "No such file" in store.last_error
    path.write_text("keys: [{name: c, key: legacy-token}]")
    assert store.check() is False
    assert "the same key as API_TOKEN" in (store.last_error or "")


def test_a_bad_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="API_KEYS_FILE: cannot read"):
        KeyStore.from_settings(Settings(api_keys_file=str(tmp_path / "none.yaml")))
    path = tmp_path / "keys.yaml"
    path.write_text("keys: [{name: a}]")
    with pytest.raises(SettingsError, match=r"API_KEYS_FILE: .*exactly one"):
        KeyStore.from_settings(Settings(api_keys_file=str(path)))
    assert KeyStore.from_settings(Settings()) is None


@pytest.mark.parametrize(
    ("data", "token"),
    [(b"tok\n", "tok"), (b"  tok \r\n", "tok"), ("t\u00f6k".encode(), "t\u00f6k")],
)
def test_a_token_file_holds_the_token_alone(data: bytes, token: str) -> None:
    assert parse_token(data) == token


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n", "empty"),
        (f"{SECRET}\nsecond".encode(), "more than one word"),
        (b"\xff" + SECRET.encode(), "not UTF-8"),
    ],
)
def test_a_bad_token_file_is_named_without_quoting_it(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError, match=message) as caught:
        parse_token(data)
    assert SECRET not in str(caught.value)


def test_the_token_file_and_the_keys_file_reload_on_their_own(tmp_path: Path) -> None:
    token, keys = tmp_path / "token", tmp_path / "keys.yaml"
    token.write_text("t1\n")
    keys.write_text("keys: [{name: a, key: ka}]")
    store = KeyStore.from_settings(Settings(api_token_file=str(token), api_keys_file=str(keys)))
    assert store is not None
    assert store.ring.names == ["api_token", "a"]
    assert store.ring.match("t1") is not None and store.ring.match("t1\n") is None
    assert store.check() is False
    token.write_text("t2")
    assert store.check() is True
    assert store.ring.match("t1") is None
    found = store.ring.match("t2")
    assert found is not None and found.name == "api_token" and found.per_client
    assert store.ring.names == ["api_token", "a"]  # the keys file's keys stayed
    # a token that is a named key's is refused, from either side
    token.write_text("ka")
    assert store.check() is False
    assert store.last_error == "API_TOKEN_FILE: the named key 'a' is the same key as API_TOKEN"
    assert store.ring.match("t2") is not None
    keys.write_text("keys: [{name: b, key: t2}]")
    assert store.check() is False
    assert store.last_error == "API_KEYS_FILE: the named key 'b' is the same key as API_TOKEN"
    assert store.reloads == {"success": 1, "failure": 2}


def test_a_token_file_stops_start_up_when_unusable(tmp_path: Path) -> None:
    path = tmp_path / "token"
    with pytest.raises(SettingsError, match="API_TOKEN_FILE: cannot read"):
        KeyStore.from_settings(Settings(api_token_file=str(path)))
    path.write_text("\n")
    with pytest.raises(SettingsError, match=r"API_TOKEN_FILE: .*empty"):
        KeyStore.from_settings(Settings(api_token_file=str(path)))
    path.write_text("t")
    with pytest.raises(SettingsError, match="set API_TOKEN or API_TOKEN_FILE, not both"):
        KeyStore.from_settings(Settings(api_token_file=str(path), api_token="t"))
