"""`helm lint --strict` with the real Helm engine, for every ci/*-values.yaml and
each Kubernetes version we support."""

from __future__ import annotations

from typing import Any

import pytest


def _problems(report: dict[str, Any]) -> list[str]:
    # severity: 1 info, 2 warning, 3 error; strict mode fails on warnings too.
    bad = [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]
    return bad + list(report["errors"])


def test_lint_strict_default_values(helm: Any, kube: Any, kube_version: str) -> None:
    report = helm.lint(str(kube.CHART_DIR), strict=True, kube_version=f"v{kube_version}.0")
    assert report["total_charts_linted"] == 1
    assert _problems(report) == []


def test_lint_strict_ci_values(
    helm: Any, kube: Any, ci_values: dict[str, Any], ci_name: str, kube_version: str
) -> None:
    report = helm.lint(
        str(kube.CHART_DIR),
        ci_values[ci_name],
        strict=True,
        kube_version=f"v{kube_version}.0",
        namespace=kube.NAMESPACE,
    )
    assert _problems(report) == []


def test_lint_reports_schema_violations(helm: Any, kube: Any) -> None:
    report = helm.lint(str(kube.CHART_DIR), {"gpu": {"count": 0}}, strict=True)
    assert any("/gpu/count" in e for e in report["errors"]), report


def test_ci_values_cover_the_features(ci_values: dict[str, Any]) -> None:
    # Issue 7: cpu, gpu, autoscaling, keda and servicemonitor each have a ci file.
    assert {"cpu", "gpu", "autoscaling", "keda", "servicemonitor"} <= set(ci_values)
    assert ci_values["gpu"]["gpu"]["enabled"] is True
    assert ci_values["autoscaling"]["autoscaling"]["enabled"] is True
    assert ci_values["keda"]["keda"]["enabled"] is True
    assert ci_values["servicemonitor"]["metrics"]["serviceMonitor"]["enabled"] is True
    # Issue 30: a production example with the security settings together.
    production = ci_values["production"]
    assert production["networkPolicy"]["enabled"] is True
    assert production["image"]["digest"].startswith("sha256:")
    assert production["auth"]["existingSecret"]


def test_chart_declares_supported_kube_versions(kube: Any) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    meta = yaml.safe_load((kube.CHART_DIR / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["kubeVersion"] == ">=1.29.0-0"
