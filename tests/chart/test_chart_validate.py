"""Every object the chart renders (hooks included) validates strictly against the
Kubernetes 1.29 and 1.33 OpenAPI schemas (kubernetes-validate, offline). The two
CRD kinds (ServiceMonitor, KEDA ScaledObject) are checked against the strict
subset schemas in crd_schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CRD_SCHEMAS = Path(__file__).parent / "crd_schemas"
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda.sh-v1alpha1.json",
}


@pytest.fixture(scope="module")
def kubernetes_validate() -> Any:
    return pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate is not installed (pip install kubernetes-validate)",
    )


@pytest.fixture(scope="module")
def crd_validators() -> dict[tuple[str, str], Any]:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    return {
        key: jsonschema.Draft202012Validator(json.loads((CRD_SCHEMAS / name).read_text()))
        for key, name in CRD_KINDS.items()
    }


def _validate_all(
    docs: list[dict[str, Any]], version: str, kv: Any, crds: dict[tuple[str, str], Any]
) -> list[str]:
    errors = []
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        key = (doc["apiVersion"], doc["kind"])
        if key in crds:
            errors += [f"{where}: {e.message}" for e in crds[key].iter_errors(doc)]
            continue
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            errors.append(f"{where}: {exc.message} at {list(exc.path)}")
        except kv.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors


def test_default_render_validates(
    render: Any, kube_version: str, kubernetes_validate: Any, crd_validators: Any
) -> None:
    docs = render({}, hooks=True)
    assert _validate_all(docs, kube_version, kubernetes_validate, crd_validators) == []


def test_ci_render_validates(
    render: Any,
    ci_values: dict[str, Any],
    ci_name: str,
    kube_version: str,
    kubernetes_validate: Any,
    crd_validators: Any,
) -> None:
    docs = render(ci_values[ci_name], hooks=True)
    assert _validate_all(docs, kube_version, kubernetes_validate, crd_validators) == []


def test_everything_on_renders_and_validates(
    render: Any, kube_version: str, kubernetes_validate: Any, crd_validators: Any
) -> None:
    values = {
        "auth": {"apiToken": "t", "apiKeys": {"existingSecret": "team-keys"}},
        "hubToken": {"value": "h"},
        "image": {"digest": "sha256:" + "0" * 64},
        "modelDownload": {"mode": "initContainer"},
        "networkPolicy": {
            "enabled": True,
            "ingress": {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"team": "search"}}},
                    {
                        "podSelector": {
                            "matchExpressions": [
                                {"key": "app", "operator": "In", "values": ["a", "b"]}
                            ]
                        }
                    },
                ]
            },
            "egress": {
                "download": {
                    "to": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.8/29"]}}],
                    "publicInternet": True,
                },
                "extra": [{"to": [{"podSelector": {}}], "ports": [{"port": 4317}]}],
            },
        },
        "keda": {"enabled": True},
        "metrics": {"serviceMonitor": {"enabled": True}},
        "modelCache": {"type": "persistentVolumeClaim"},
        "shm": {"enabled": True},
        "shutdown": {"useSleepAction": True},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ],
    }
    docs = render(values, hooks=True)
    kinds = {d["kind"] for d in docs}
    assert {"Secret", "PersistentVolumeClaim", "ScaledObject", "ServiceMonitor"} <= kinds
    assert "NetworkPolicy" in kinds
    assert _validate_all(docs, kube_version, kubernetes_validate, crd_validators) == []


def test_crd_schemas_are_strict(crd_validators: Any) -> None:
    # A typo in a CRD field must fail, as kubernetes-validate's strict mode does.
    bad = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "intervall": "15s"}]},
    }
    assert list(crd_validators[("monitoring.coreos.com/v1", "ServiceMonitor")].iter_errors(bad))


def test_install_dry_run_renders_the_same_objects(helm: Any, kube: Any, render: Any) -> None:
    """`helm install --dry-run=client` (what `helm template` prints) gives the
    objects that Chart.render gives, so the other tests test what users get."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    config = helm.Config(storage_driver="memory")
    try:
        release = config.install(
            str(kube.CHART_DIR), kube.RELEASE, {}, namespace=kube.NAMESPACE, dry_run="client"
        )
    finally:
        config.close()
    installed = [d for d in yaml.safe_load_all(release["manifest"]) if d]
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(installed, key=key) == sorted(render({}), key=key)
