"""Fixtures for the kind end-to-end tests (`pytest e2e/test_kind.py`).

They need a Docker engine, the `kind` CLI, the Python `kubernetes` client and
helm-python-sdk (the Helm engine; no helm binary needed). Each missing piece makes
the tests skip with a reason that names it. The default `pytest` run (testpaths =
tests) never collects this folder.

Environment:
  E2E_KIND_CLUSTER   cluster name (default smart-embedder); reused when it exists,
                     else created from kind-config.yaml and deleted afterwards
  E2E_KEEP_CLUSTER=1 keep a cluster these tests created
  E2E_IMAGE          an image already loaded in the cluster (skips build + load)
  E2E_MODELS         tiny (default: tiny random bge-m3 + reranker, built here and
                     mounted read-only from the host) or hub (BAAI models, downloaded)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "smart-embedder"
KIND_CONFIG = ROOT / "kind-config.yaml"
NODE_PORT = 30080  # published on 127.0.0.1 by kind-config.yaml
BASE_URL = f"http://127.0.0.1:{NODE_PORT}"
# kind-config.yaml mounts this host folder into every node at NODE_MODELS.
HOST_MODELS = Path(os.environ.get("E2E_HOST_MODELS", "/tmp/smart-embedder-e2e-models"))
NODE_MODELS = "/var/lib/smart-embedder-models"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: needs a kind cluster (skipped without one)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


def _run(*argv: str, timeout: float = 600, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, capture_output=True, timeout=timeout, **kw)


def missing_tools() -> list[str]:
    missing = []
    if not shutil.which("kind"):
        missing.append("the kind CLI (https://kind.sigs.k8s.io)")
    docker = shutil.which("docker")
    if not docker:
        missing.append("docker")
    else:
        probe = subprocess.run([docker, "info"], capture_output=True, timeout=30)
        if probe.returncode != 0:
            missing.append("a running Docker engine (`docker info` failed)")
    for module, pip_name in (("kubernetes", "kubernetes"), ("helm_python", "helm-python-sdk")):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the Python package {pip_name}")
    return missing


@pytest.fixture(scope="session")
def tools() -> None:
    missing = missing_tools()
    if missing:
        pytest.skip("kind e2e tests need " + ", ".join(missing))


@pytest.fixture(scope="session")
def kubeconfig(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    name = os.environ.get("E2E_KIND_CLUSTER", "smart-embedder")
    existing = _run("kind", "get", "clusters").stdout.split()
    created = name not in existing
    if created:
        HOST_MODELS.mkdir(parents=True, exist_ok=True)
        _run("kind", "create", "cluster", "--name", name, "--config", str(KIND_CONFIG),
             "--wait", "180s", timeout=900)  # fmt: skip
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(_run("kind", "get", "kubeconfig", "--name", name).stdout)
    os.environ["E2E_KIND_CLUSTER"] = name
    yield path
    if created and os.environ.get("E2E_KEEP_CLUSTER") != "1":
        subprocess.run(["kind", "delete", "cluster", "--name", name], timeout=300, check=False)


@pytest.fixture(scope="session")
def kube(kubeconfig: Path) -> Any:
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    return type(
        "Kube",
        (),
        {
            "api": api_client,
            "core": client.CoreV1Api(api_client),
            "apps": client.AppsV1Api(api_client),
            "autoscaling": client.AutoscalingV2Api(api_client),
            "apis": client.ApisApi(api_client),
        },
    )()


@pytest.fixture(scope="session")
def image(kubeconfig: Path) -> str:
    if os.environ.get("E2E_IMAGE"):
        return os.environ["E2E_IMAGE"]
    tag = "smart-embedder:e2e-cpu"
    _run("docker", "build", "-f", str(ROOT / "Dockerfile.cpu"), "-t", tag, str(ROOT), timeout=1800)
    _run("kind", "load", "docker-image", tag, "--name", os.environ["E2E_KIND_CLUSTER"], timeout=600)
    return tag


def tiny_model_values() -> dict[str, Any]:
    """Chart values for the tiny models mounted from the nodes' NODE_MODELS."""
    return {
        "models": {"bgeM3": "/models/bge-m3", "reranker": "/models/bge-reranker"},
        "modelCache": {
            "type": "prefilled",
            "prefilled": {"volume": {"hostPath": {"path": NODE_MODELS, "type": "Directory"}}},
        },
    }


def chart_values(image: str, model_values: dict[str, Any]) -> dict[str, Any]:
    """What the e2e release installs (test_values_render.py renders it offline)."""
    repo, _, tag = image.rpartition(":")
    return {
        "image": {"repository": repo, "tag": tag, "pullPolicy": "Never"},
        "replicaCount": 2,
        "service": {"type": "NodePort", "nodePort": NODE_PORT},
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "3Gi"}},
        "shutdown": {"drainSeconds": 20, "preStopSleepSeconds": 5},
        "env": {"RATE_LIMIT_REQUESTS_PER_MINUTE": "0"},
        **model_values,
    }


@pytest.fixture(scope="session")
def model_values() -> dict[str, Any]:
    """Chart values for the models: tiny ones from the host folder, or the hub's."""
    if os.environ.get("E2E_MODELS", "tiny") == "hub":
        return {}
    if not (HOST_MODELS / "bge-m3" / "sparse_linear.pt").is_file():
        _run("python", "-m", "app.testing.tiny_models", str(HOST_MODELS), cwd=ROOT)
    for path in HOST_MODELS.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return tiny_model_values()


@pytest.fixture(scope="session")
def release(
    kubeconfig: Path, kube: Any, image: str, model_values: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The chart installed in a fresh namespace and rolled out; removed afterwards.

    The returned dict carries `helm` (a helm_python.Config bound to the namespace)
    and `values` (what was installed), so tests can upgrade or run `helm test`."""
    import helm_python as helm
    from kubernetes import client

    namespace = f"se-e2e-{uuid.uuid4().hex[:6]}"
    kube.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    values = chart_values(image, model_values)
    config = helm.Config(kubeconfig_path=str(kubeconfig), namespace=namespace)
    name = "se"
    started = time.monotonic()
    config.install(str(CHART), name, values, namespace=namespace, wait="watcher", timeout=900)
    try:
        yield {
            "name": name,
            "namespace": namespace,
            "deployment": f"{name}-smart-embedder",
            "values": values,
            "helm": config,
            "install_seconds": time.monotonic() - started,
        }
    finally:
        try:
            config.uninstall(name, wait="watcher", timeout=300)
        finally:
            config.close()
            kube.core.delete_namespace(namespace)
