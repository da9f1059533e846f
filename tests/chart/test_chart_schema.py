"""values.schema.json accepts the shipped values and rejects bad ones; the
template-level checks that a schema cannot express fail the render with a clear
message."""

from __future__ import annotations

import json
from typing import Any

import pytest

BAD_VALUES = {
    "replicas negative": {"replicaCount": -1},
    "replicas as string": {"replicaCount": "2"},
    "unknown top-level key": {"replicas": 2},
    "typo in nested key": {"gpu": {"enabeld": True}},
    "gpu count zero": {"gpu": {"count": 0}},
    "gpu resource name": {"gpu": {"resourceName": "gpu"}},
    "device": {"device": "tpu"},
    "preset": {"models": {"preset": "tiny"}},
    "model as number": {"models": {"bgeM3": 3}},
    "pull policy": {"image": {"pullPolicy": "Sometimes"}},
    "image digest": {"image": {"digest": "latest"}},
    "cache type": {"modelCache": {"type": "hostPath"}},
    "cache mount path relative": {"modelCache": {"mountPath": "models"}},
    "cache size": {"modelCache": {"emptyDir": {"sizeLimit": "20 gigs"}}},
    "pvc access mode": {"modelCache": {"persistentVolumeClaim": {"accessModes": ["RWX"]}}},
    "privileged port": {"server": {"port": 80}},
    "log level": {"server": {"logLevel": "verbose"}},
    "service type": {"service": {"type": "ExternalName"}},
    "node port range": {"service": {"type": "NodePort", "nodePort": 8080}},
    "probe period zero": {"probes": {"readiness": {"periodSeconds": 0}}},
    "drain negative": {"shutdown": {"drainSeconds": -5}},
    "grace as string": {"shutdown": {"terminationGracePeriodSeconds": "60"}},
    "hpa max zero": {"autoscaling": {"maxReplicas": 0}},
    "hpa target": {"autoscaling": {"queueDepth": {"targetAverageValue": "four"}}},
    "hpa metric name": {"autoscaling": {"queueDepth": {"metricName": "queue depth"}}},
    "cpu utilisation": {"autoscaling": {"targetCPUUtilizationPercentage": 150}},
    "keda server": {"keda": {"serverAddress": "prometheus:9090"}},
    "keda threshold": {"keda": {"threshold": "lots"}},
    "pdb percent": {"podDisruptionBudget": {"maxUnavailable": "fifty"}},
    "scrape interval": {"metrics": {"serviceMonitor": {"interval": "15"}}},
    "env name": {"env": {"BAD-NAME": "x"}},
    "env value object": {"env": {"LOG_LEVEL": {"a": 1}}},
    "root user": {"podSecurityContext": {"runAsNonRoot": False}},
    "writable root fs": {"securityContext": {"readOnlyRootFilesystem": False}},
    "privilege escalation": {"securityContext": {"allowPrivilegeEscalation": True}},
    "privileged": {"securityContext": {"privileged": True}},
    "uid 0": {"securityContext": {"runAsUser": 0}},
    "network policy peer typo": {
        "networkPolicy": {"ingress": {"from": [{"namespaceSelectr": {}}]}}
    },
    "network policy empty peer": {"networkPolicy": {"ingress": {"from": [{}]}}},
    "network policy selector typo": {
        "networkPolicy": {"ingress": {"from": [{"podSelector": {"matchLabel": {"a": "b"}}}]}}
    },
    "network policy ip block and selector": {
        "networkPolicy": {
            "egress": {
                "download": {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}, "podSelector": {}}]}
            }
        }
    },
    "network policy protocol": {
        "networkPolicy": {"egress": {"download": {"ports": [{"port": 443, "protocol": "HTTPS"}]}}}
    },
    "network policy without dns": {"networkPolicy": {"egress": {"dns": {"to": []}}}},
    "network policy public internet": {
        "networkPolicy": {"egress": {"download": {"publicInternet": "yes"}}}
    },
}


def test_schema_accepts_defaults(chart: Any) -> None:
    chart.validate_schema({})


def test_schema_is_a_valid_draft7_schema(kube: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    schema = json.loads((kube.CHART_DIR / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


def test_schema_accepts_ci_values(chart: Any, ci_values: dict[str, Any], ci_name: str) -> None:
    chart.validate_schema(ci_values[ci_name])


@pytest.mark.parametrize("values", list(BAD_VALUES.values()), ids=list(BAD_VALUES))
def test_schema_rejects(helm: Any, chart: Any, values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)
    # ... and so does an install / template, not only the explicit check.
    with pytest.raises(helm.HelmValuesError):
        chart.render(values, name="se", namespace="ml")


def test_schema_error_names_the_key(helm: Any, chart: Any) -> None:
    with pytest.raises(helm.HelmValuesError, match="/gpu/count"):
        chart.validate_schema({"gpu": {"count": 0}})


def test_values_yaml_documents_every_key(kube: Any) -> None:
    """STYLE: every key in values.yaml has an `## @param` comment, and the schema
    knows every key (its additionalProperties=false does the reverse)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    text = (kube.CHART_DIR / "values.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=values.schema.json")
    documented = {
        line.split()[2] for line in text.splitlines() if line.strip().startswith("## @param ")
    }
    values = yaml.safe_load(text)

    def leaves(node: Any, prefix: str = "") -> set[str]:
        keys = set()
        for key, value in node.items():
            path = f"{prefix}{key}"
            if path in documented:
                keys.add(path)  # a documented map (resources, securityContext) is one param
            elif isinstance(value, dict) and value:
                keys |= leaves(value, path + ".")
            else:
                keys.add(path)
        return keys

    assert leaves(values) - documented == set()


TEMPLATE_FAILURES = {
    "grace period below drain + sleep": (
        {
            "shutdown": {
                "drainSeconds": 30,
                "preStopSleepSeconds": 5,
                "terminationGracePeriodSeconds": 34,
            }
        },
        "terminationGracePeriodSeconds",
    ),
    "hpa and keda together": (
        {"autoscaling": {"enabled": True}, "keda": {"enabled": True}},
        "exclusive",
    ),
    "hpa min above max": (
        {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}},
        "minReplicas",
    ),
    "keda min above max": (
        {"keda": {"enabled": True, "minReplicaCount": 5, "maxReplicaCount": 2}},
        "minReplicaCount",
    ),
    "prefilled cache without volume": ({"modelCache": {"type": "prefilled"}}, "prefilled.volume"),
    "token twice": ({"auth": {"apiToken": "a", "existingSecret": "s"}}, "auth.apiToken"),
    "hub token twice": ({"hubToken": {"value": "a", "existingSecret": "s"}}, "hubToken.value"),
    "helm test key without keys": (
        {"auth": {"apiKeys": {"helmTestKey": "t"}}},
        "helmTestKey needs auth.apiKeys.existingSecret",
    ),
}


@pytest.mark.parametrize(
    ("values", "message"), list(TEMPLATE_FAILURES.values()), ids=list(TEMPLATE_FAILURES)
)
def test_render_fails_clearly(helm: Any, chart: Any, values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=message):
        chart.render(values, name="se", namespace="ml")
