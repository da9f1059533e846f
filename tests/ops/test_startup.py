"""Start-up failures: one clear line on stderr and a non-zero exit (SPEC §2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert "model BAAI/bge-m3: not in the cache" in last_line(result.stderr)


def test_bad_setting_names_the_variable() -> None:
    result = serve(env={"MAX_QUEUE_SIZE": "lots"})
    assert result.returncode == 2
    assert last_line(result.stderr).startswith("smart-embedder: invalid setting MAX_QUEUE_SIZE")


def test_preflight_names_each_model_to_download_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.models.catalog import preflight
    from app.settings import Settings

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings.from_env({}, model_cache_dir=str(tmp_path))
    # bge-m3 serves dense, sparse and ColBERT: one download, not three.
    assert preflight(settings) == ["BAAI/bge-m3", "BAAI/bge-reranker-v2-m3"]
