"""``smart-embedder download`` against the real loading code: local model directories and a
Hugging Face hub cache laid out offline (blobs + snapshot symlinks + refs, as the hub
client writes it), through the CLI as an operator runs it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import EXIT_LOAD, main
from app.download import configured_models, named_models
from app.errors import ModelLoadError
from app.settings import Settings
from tests.helpers import REPO

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def hub_cache_from(model_dir: Path, cache: Path, repo_id: str, commit: str = COMMIT) -> Path:
    """Lay ``model_dir`` out as the hub client caches ``repo_id`` at ``commit`` on main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    for source in model_dir.iterdir():
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        blob = repo / "blobs" / digest
        if not blob.exists():
            shutil.copyfile(source, blob)
        (snapshot / source.name).symlink_to(os.path.relpath(blob, snapshot))
    return snapshot


@pytest.fixture(scope="module")
def hub_cache(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("hub-cache")
    hub_cache_from(tiny_models["bge-m3"], cache, "test-org/tiny-bge-m3")
    hub_cache_from(tiny_models["bge-reranker"], cache, "test-org/tiny-reranker")
    return cache


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m app download ...`` offline, as an init container would run it."""
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", "download", *args],
        env=full_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("smart-embedder: model "), stderr
    return lines[0]


# --- the plan: what gets fetched ---


def test_configured_models_follow_the_server_plan() -> None:
    settings = Settings(
        bge_m3_model="org/m3", reranker_model="org/rr", model_revision="v1", device="cpu"
    )
    wanted = configured_models(settings)
    assert [(w.ref, w.roles, w.revision) for w in wanted] == [
        ("org/m3", ("dense", "sparse", "colbert"), "v1"),
        ("org/rr", ("rerank",), "v1"),
    ]


def test_configured_models_split_roles_by_model() -> None:
    settings = Settings(bge_m3_model="org/m3", dense_embedding_model="org/dense", reranker_model="")
    assert [(w.ref, w.roles) for w in configured_models(settings)] == [
        ("org/dense", ("dense",)),
        ("org/m3", ("sparse", "colbert")),
    ]


def test_named_models_take_a_revision(tmp_path: Path) -> None:
    local = tmp_path / "with@sign"
    local.mkdir()
    wanted = named_models(["org/a@v2", "org/b", str(local)], default_revision="main")
    assert [(w.ref, w.revision) for w in wanted] == [
        ("org/a", "v2"),
        ("org/b", "main"),
        (str(local), "main"),  # an existing directory is never split at its '@'
    ]
    with pytest.raises(ModelLoadError, match="REF@REVISION"):
        named_models(["org/a@"])


# --- local directories, in process ---


def test_local_dirs_load(
    tiny_models: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BGE_M3_MODEL", str(tiny_models["bge-m3"]))
    monkeypatch.setenv("RERANKER_MODEL", str(tiny_models["bge-reranker"]))
    assert main(["download"]) == 0
    out = capsys.readouterr().out
    assert "verify: load" in out
    assert "download: 0 model(s) into the default Hugging Face cache, 2 already in local " in out
    assert f"{tiny_models['bge-m3']} (dense, sparse, colbert): local directory, nothing" in out
    assert "bge-m3 backend verified (load)" in out
    assert "cross-encoder backend verified (load)" in out
    assert out.rstrip().endswith("done: 2 model(s) ready")


def test_unsupported_model_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert main(["download", str(tmp_path)]) == EXIT_LOAD
    line = one_error_line(capsys.readouterr().err)
    assert str(tmp_path) in line
    assert "model_type=gpt2" in line
    assert "not supported for any role" in line


def test_model_in_the_wrong_role_fails(
    tiny_models: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BGE_M3_MODEL", str(tiny_models["bge-m3"]))
    monkeypatch.setenv("RERANKER_MODEL", str(tiny_models["bge-m3"]))
    assert main(["download", "--verify", "none"]) == EXIT_LOAD
    line = one_error_line(capsys.readouterr().err)
    assert "not a supported rerank model" in line


@pytest.mark.parametrize(
    ("verify", "reason"),
    [("config", "model.safetensors is damaged or incomplete"), ("load", "backend does not load")],
)
def test_truncated_weights_fail_verification(
    tiny_models: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    verify: str,
    reason: str,
) -> None:
    broken = tmp_path / "reranker"
    shutil.copytree(tiny_models["bge-reranker"], broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert main(["download", str(broken), "--verify", verify]) == EXIT_LOAD
    assert reason in one_error_line(capsys.readouterr().err)


def test_verify_none_skips_the_weights(
    tiny_models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "reranker"
    shutil.copytree(tiny_models["bge-reranker"], broken)
    (broken / "model.safetensors").write_bytes(b"")
    assert main(["download", str(broken), "--verify", "none"]) == 0
    assert "cross-encoder backend not verified" in capsys.readouterr().out


# --- a hub cache with HF_HUB_OFFLINE=1: in process, and through a real process ---


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The hub client reads the variable once, at import; its constant is what it checks.
    from huggingface_hub import constants
    from huggingface_hub.utils import reset_sessions

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    # Its HTTP sessions (one per thread, kept) refuse every request or none, as the constant
    # said when each was made: none made before is reused here, and the offline ones made
    # here are dropped, or every later test of this process that talks to our servers
    # through the hub client (tests/api/test_tei_clients.py) would be refused.
    reset_sessions()
    yield
    reset_sessions()


def test_named_hub_model_at_a_revision(
    hub_cache: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"test-org/tiny-bge-m3@{COMMIT}"
    assert main(["download", spec, "--cache-dir", str(hub_cache)]) == 0
    out = capsys.readouterr().out
    assert f"{spec}: fetching" in out
    assert "bge-m3 backend verified (load)" in out


def test_unknown_revision_fails(
    hub_cache: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "test-org/tiny-bge-m3@v9"
    assert main(["download", spec, "--cache-dir", str(hub_cache)]) == EXIT_LOAD
    assert "not in the cache" in one_error_line(capsys.readouterr().err)


def test_missing_directory_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BGE_M3_MODEL", str(tmp_path / "nope"))
    monkeypatch.setenv("RERANKER_MODEL", "")
    assert main(["download"]) == EXIT_LOAD
    assert "no such directory" in one_error_line(capsys.readouterr().err)


def test_hub_cache_is_found_and_verified(hub_cache: Path) -> None:
    done = run_cli(
        "--verify",
        "config",
        env={
            "MODEL_CACHE_DIR": str(hub_cache),
            "BGE_M3_MODEL": "test-org/tiny-bge-m3",
            "RERANKER_MODEL": "test-org/tiny-reranker",
        },
    )
    assert done.returncode == 0, done.stderr
    snapshot = hub_cache / "models--test-org--tiny-bge-m3" / "snapshots" / COMMIT
    assert "test-org/tiny-bge-m3: " in done.stdout
    assert str(snapshot) in done.stdout
    assert "bge-m3 backend verified (config)" in done.stdout
    assert "cross-encoder backend verified (config)" in done.stdout


def test_missing_hub_model_fails_with_one_line(hub_cache: Path) -> None:
    done = run_cli("test-org/not-there", "--cache-dir", str(hub_cache))
    assert done.returncode == EXIT_LOAD
    line = one_error_line(done.stderr)
    assert "test-org/not-there" in line
    assert "HF_HUB_OFFLINE" in line


# --- the chart's download modes (ci/download-*-values.yaml, ci/airgapped-values.yaml) ---

CHART = REPO / "charts" / "smart-embedder"
MODEL_ENV = {
    "MODEL_CACHE_DIR",
    "BGE_M3_MODEL",
    "DENSE_EMBEDDING_MODEL",
    "SPARSE_EMBEDDING_MODEL",
    "RERANKER_MODEL",
    "MODEL_REVISION",
    "PRESET",
    "HF_TOKEN",
}


@pytest.fixture(scope="module")
def render_chart() -> Any:
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    yaml = pytest.importorskip("yaml")
    chart = helm.Chart.load(str(CHART))

    def render(values: dict[str, Any]) -> list[dict[str, Any]]:
        docs = []
        for name, text in chart.render(values, name="se", namespace="ml").items():
            if name.endswith(".yaml"):
                docs += [doc for doc in yaml.safe_load_all(text) if doc]
        return docs

    yield render
    chart.close()


def ci_values(name: str) -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text())
    return loaded


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def pod_spec(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, [d["kind"] for d in docs]
    spec: dict[str, Any] = found[0]["spec"]["template"]["spec"]
    return spec


def server(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in pod_spec(docs, "Deployment")["containers"] if c["name"] == "server")


def test_download_job_fills_the_shared_claim(render_chart: Any) -> None:
    values = ci_values("download-job")
    docs = render_chart(values)
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["args"] == ["download", "--verify", "load"]
    claim = values["modelCache"]["persistentVolumeClaim"]["existingClaim"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == claim
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["models"]["mountPath"] == server(docs)["volumeMounts"][1]["mountPath"]
    # The job looks for the same models in the same cache as the server, and it is the
    # one that downloads: the server stays offline.
    server_env, job_env = env_of(server(docs)), env_of(container)
    assert {k: v for k, v in job_env.items() if k in MODEL_ENV} == {
        k: v for k, v in server_env.items() if k in MODEL_ENV
    }
    assert server_env["HF_HUB_OFFLINE"] == "1"
    assert "HF_HUB_OFFLINE" not in job_env


def test_download_init_container_runs_before_the_server(render_chart: Any) -> None:
    if (
        "smart-embedder.downloadInitContainers"
        not in (CHART / "templates" / "deployment.yaml").read_text()
    ):
        pytest.skip("deployment.yaml does not include smart-embedder.downloadInitContainers yet")
    docs = render_chart(ci_values("download-init"))
    spec = pod_spec(docs, "Deployment")
    (init,) = spec["initContainers"]
    assert init["args"] == ["download", "--verify", "config"]
    assert {m["name"] for m in init["volumeMounts"]} == {"tmp", "models"}
    assert "emptyDir" in {v["name"]: v for v in spec["volumes"]}["models"]


def test_airgapped_server_reads_a_read_only_volume_offline(render_chart: Any) -> None:
    docs = render_chart(ci_values("airgapped"))
    container = server(docs)
    assert env_of(container)["HF_HUB_OFFLINE"] == "1"
    models = next(m for m in container["volumeMounts"] if m["name"] == "models")
    assert models["readOnly"] is True
    assert env_of(container)["BGE_M3_MODEL"] == "BAAI/bge-m3"


def test_no_download_objects_by_default(render_chart: Any) -> None:
    docs = render_chart({})
    assert not [d for d in docs if d["kind"] == "Job"]
    assert "initContainers" not in pod_spec(docs, "Deployment")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"modelDownload": {"mode": "job"}}, "existingClaim"),
        (
            {
                "modelDownload": {"mode": "job"},
                "modelCache": {
                    "type": "persistentVolumeClaim",
                    "persistentVolumeClaim": {"existingClaim": "models"},
                },
                "hubToken": {"value": "hf_x"},
            },
            "hubToken.existingSecret",
        ),
    ],
)
def test_impossible_download_job_fails_the_render(
    render_chart: Any, values: dict[str, Any], message: str
) -> None:
    helm = pytest.importorskip("helm_python")
    with pytest.raises(helm.HelmRenderError, match=message):
        render_chart(values)
