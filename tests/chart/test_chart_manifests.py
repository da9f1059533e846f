"""manifests/ is the chart's render (manifests/generate.py): fail on any drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "manifests" / "generate.py"


@pytest.fixture(scope="module")
def generator(helm: Any) -> ModuleType:
    spec = importlib.util.spec_from_file_location("smart_embedder_manifests", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_manifests_match_the_chart(generator: ModuleType) -> None:
    problems = generator.drift()
    assert problems == [], "run `python manifests/generate.py`:\n" + "\n".join(problems)


def test_drift_is_detected(generator: ModuleType, tmp_path: Path) -> None:
    generator.write(tmp_path)
    assert generator.drift(tmp_path) == []
    deployment = tmp_path / "cpu" / "deployment.yaml"
    deployment.write_text(deployment.read_text().replace("replicas: 1", "replicas: 3"))
    (tmp_path / "cpu" / "extra.yaml").write_text("kind: ConfigMap\n")
    problems = generator.drift(tmp_path)
    assert any("replicas: 3" in p for p in problems)
    assert any("stale" in p and "extra.yaml" in p for p in problems)


def test_kustomizations_list_every_file(generator: ModuleType, render: Any) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    files = generator.render_all()
    root = yaml.safe_load(files["kustomization.yaml"])
    assert root["resources"] == ["cpu"]
    for variant in generator.VARIANTS:
        kust = yaml.safe_load(files[f"{variant}/kustomization.yaml"])
        listed = set(kust["resources"])
        present = {n.split("/", 1)[1] for n in files if n.startswith(f"{variant}/")}
        assert listed == present - {"kustomization.yaml"}
        kinds = {yaml.safe_load(files[f"{variant}/{n}"])["kind"] for n in listed}
        assert {"Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"} <= kinds
        assert "Pod" not in kinds  # the helm test hook is not for kubectl users
