"""The values the kind tests install, rendered offline with the real Helm engine:
runs without a cluster, so a chart change that breaks the e2e release shows up
before anyone reaches for kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def e2e() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "smart_embedder_e2e_conftest", HERE / "conftest.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def render(e2e: Any) -> Any:
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")

    def _render(values: dict[str, Any]) -> dict[str, Any]:
        with helm.Chart.load(str(e2e.CHART)) as chart:
            out = chart.render(values, name="se", namespace="se-e2e")
        texts = [text for name, text in out.items() if name.endswith(".yaml")]
        docs = [d for text in texts for d in yaml.safe_load_all(text) if d]
        docs = [d for d in docs if d["kind"] != "Pod"]  # the helm test hook
        return {d["kind"]: d for d in docs}

    return _render


def test_e2e_release_values_render(e2e: Any, render: Any) -> None:
    values = e2e.chart_values("smart-embedder:e2e-cpu", e2e.tiny_model_values())
    objects = render(values)
    port = objects["Service"]["spec"]["ports"][0]
    assert objects["Service"]["spec"]["type"] == "NodePort"
    assert port["nodePort"] == e2e.NODE_PORT
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "smart-embedder:e2e-cpu"
    assert container["imagePullPolicy"] == "Never"
    models = next(v for v in pod["volumes"] if v["name"] == "models")
    assert models["hostPath"]["path"] == e2e.NODE_MODELS
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "models")
    assert env["BGE_M3_MODEL"].startswith(mount["mountPath"] + "/")
    assert env["HF_HUB_OFFLINE"] == "1"
    assert objects["Deployment"]["spec"]["replicas"] == 2


def test_e2e_autoscaling_upgrade_renders(e2e: Any, render: Any) -> None:
    values = e2e.chart_values("smart-embedder:e2e-cpu", e2e.tiny_model_values())
    values["autoscaling"] = {"enabled": True, "minReplicas": 2, "maxReplicas": 3}
    values["metrics"] = {"serviceMonitor": {"enabled": True, "interval": "5s", "labels": {}}}
    objects = render(values)
    assert (
        objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "se-smart-embedder"
    )
    assert "replicas" not in objects["Deployment"]["spec"]
    assert objects["ServiceMonitor"]["spec"]["endpoints"][0]["interval"] == "5s"
