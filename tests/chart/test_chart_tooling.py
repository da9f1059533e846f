"""The files around the chart agree with it: Dockerfiles (user, cache volume,
healthcheck route, CPU torch), skaffold.yaml, kind-config.yaml, and the
prometheus-adapter rule documented in the chart README."""

from __future__ import annotations

import re
from typing import Any

import pytest


@pytest.fixture(scope="module")
def yaml() -> Any:
    return pytest.importorskip("yaml", reason="PyYAML is not installed")


@pytest.mark.parametrize("flavor", ["cpu", "gpu"])
def test_dockerfile_matches_the_chart(kube: Any, render: Any, flavor: str) -> None:
    text = (kube.ROOT / f"Dockerfile.{flavor}").read_text()
    deployment = kube.one(render({"gpu": {"enabled": flavor == "gpu"}}), "Deployment")
    pod = deployment["spec"]["template"]
    uid = pod["spec"]["securityContext"]["runAsUser"]
    gid = pod["spec"]["securityContext"]["runAsGroup"]
    # The last USER is numeric (runAsNonRoot can verify it) and is the chart's uid.
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] == f"{uid}:{gid}"
    assert f"--uid {uid}" in text and f"--gid {gid}" in text
    container = kube.server_container(deployment)
    cache = kube.env_of(container)["MODEL_CACHE_DIR"]
    assert f'VOLUME ["{cache}"]' in text
    assert f"MODEL_CACHE_DIR={cache}" in text
    health = re.search(r"^HEALTHCHECK .*\n(.*\n)*?.*CMD (.*)$", text, re.M)
    assert health and "/livez" in health.group(2)
    assert "/livez" in kube.APP_ROUTES
    assert re.search(r'^ENTRYPOINT \["smart-embedder"\]', text, re.M)
    assert re.search(r'^CMD \["serve"\]', text, re.M)
    assert "EXPOSE 8000" in text
    assert container["args"] == ["serve"]


def test_cpu_image_gets_cpu_torch(kube: Any) -> None:
    text = (kube.ROOT / "Dockerfile.cpu").read_text()
    assert "ARG TORCH_VERSION=2.13.0+cpu" in text
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert '".[cpu,offline]"' in text
    assert "torch.version.cuda" in text  # the build fails on a CUDA torch


def test_gpu_image_uses_a_cuda_runtime_base(kube: Any) -> None:
    text = (kube.ROOT / "Dockerfile.gpu").read_text()
    assert re.search(r"^ARG BASE_IMAGE=nvidia/cuda:[0-9.]+-runtime-", text, re.M)
    assert '".[gpu,offline]"' in text


def test_dockerignore_keeps_the_context_small(kube: Any) -> None:
    lines = (kube.ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("*") :][:4] == ["*", "!pyproject.toml", "!README.md", "!app"]


def test_skaffold_profiles(kube: Any, yaml: Any) -> None:
    config = yaml.safe_load((kube.ROOT / "skaffold.yaml").read_text())
    assert config["apiVersion"].startswith("skaffold/v4")
    artifact = config["build"]["artifacts"][0]
    assert (kube.ROOT / artifact["docker"]["dockerfile"]).is_file()
    release = config["deploy"]["helm"]["releases"][0]
    assert (kube.ROOT / release["chartPath"] / "Chart.yaml").is_file()
    image_key = artifact["image"].replace("-", "_")
    templates = release["setValueTemplates"]
    assert templates["image.repository"] == f"{{{{.IMAGE_REPO_{image_key}}}}}"
    assert templates["image.tag"] == f"{{{{.IMAGE_TAG_{image_key}}}}}"
    # images loaded into kind by tag: never pulled (the chart's default for a tag is Always)
    assert templates["image.pullPolicy"] == "IfNotPresent"
    profiles = {p["name"]: p for p in config["profiles"]}
    assert set(profiles) == {"cpu", "gpu"}
    for name, profile in profiles.items():
        dockerfiles = [
            p["value"] for p in profile["patches"] if p["path"].endswith("/docker/dockerfile")
        ]
        assert dockerfiles == [f"Dockerfile.{name}"]
        for patch in profile["patches"]:
            if patch["path"].endswith("/valuesFiles"):
                for values_file in patch["value"]:
                    assert (kube.ROOT / values_file).is_file()
    forward = config["portForward"][0]
    assert forward["resourceName"] == "smart-embedder"  # release name == chart name: fullname


def test_kind_config(kube: Any, yaml: Any) -> None:
    config = yaml.safe_load((kube.ROOT / "kind-config.yaml").read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    roles = [n["role"] for n in config["nodes"]]
    assert roles.count("control-plane") == 1 and "worker" in roles
    mappings = config["nodes"][0]["extraPortMappings"]
    assert {"containerPort": 30080, "hostPort": 30080, "listenAddress": "127.0.0.1"}.items() <= (
        mappings[0].items()
    )
    e2e = (kube.ROOT / "e2e" / "conftest.py").read_text()
    assert "NODE_PORT = 30080" in e2e
    for node in config["nodes"]:
        mount = node["extraMounts"][0]
        assert mount["readOnly"] is True
        assert f'NODE_MODELS = "{mount["containerPath"]}"' in e2e
        assert f'"{mount["hostPath"]}"' in e2e


def test_adapter_rule_in_readme_is_the_e2e_one(kube: Any, yaml: Any) -> None:
    readme = (kube.CHART_DIR / "README.md").read_text()
    block = re.search(r"```yaml\n(rules:\n.*?)```", readme, re.S)
    assert block, "the chart README documents the prometheus-adapter rule"
    documented = yaml.safe_load(block.group(1))["rules"]
    e2e = yaml.safe_load((kube.ROOT / "e2e" / "prometheus-adapter-values.yaml").read_text())
    assert documented == e2e["rules"]
    rule = documented["custom"][0]
    assert rule["name"]["as"] == "smart_embedder_queue_depth"
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }


def test_hpa_metric_is_the_adapter_metric(render: Any, kube: Any, yaml: Any) -> None:
    e2e = yaml.safe_load((kube.ROOT / "e2e" / "prometheus-adapter-values.yaml").read_text())
    served = {rule["name"]["as"] for rule in e2e["rules"]["custom"]}
    hpa = kube.one(render({"autoscaling": {"enabled": True}}), "HorizontalPodAutoscaler")
    names = {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"}
    assert names <= served
