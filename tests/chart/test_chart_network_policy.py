"""The optional NetworkPolicy (networkPolicy.*): who may reach the release's pods and where
they may connect, rendered with the operator's selectors, for every ci file and the cases
between them. Kubernetes validation of the renders is in test_chart_validate.py."""

from __future__ import annotations

from typing import Any

import pytest

SEARCH = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "search"}}}
QUERY_PODS = {"podSelector": {"matchLabels": {"app": "query"}}}
PROXY = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "egress"}},
    "podSelector": {"matchLabels": {"app": "squid"}},
}
DNS_PORTS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
HTTP = [{"port": "http", "protocol": "TCP"}]
PREFILLED = {
    "type": "prefilled",
    "prefilled": {"volume": {"persistentVolumeClaim": {"claimName": "m", "readOnly": True}}},
}


def policy_of(render: Any, kube: Any, values: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = kube.one(render(values), "NetworkPolicy")
    return found


def egress_to(policy: dict[str, Any], ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The peers of the egress rule on exactly these ports ([] when there is none)."""
    rules = [r for r in policy["spec"]["egress"] if r["ports"] == ports]
    assert len(rules) <= 1
    return list(rules[0]["to"]) if rules else []


def release_pods(kube: Any) -> dict[str, Any]:
    return {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "smart-embedder",
                "app.kubernetes.io/instance": kube.RELEASE,
            }
        }
    }


def test_off_by_default(render: Any, kube: Any) -> None:
    assert kube.maybe(render({}), "NetworkPolicy") is None


def test_production_example_admits_the_listed_clients_and_lets_out_only_dns(
    render: Any, kube: Any, ci_values: dict[str, Any]
) -> None:
    values = ci_values["production"]
    assert values["networkPolicy"]["enabled"] is True
    policy = policy_of(render, kube, values)
    spec = policy["spec"]
    deploy = kube.one(render(values), "Deployment")
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert spec["podSelector"] == {"matchLabels": selector}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    # one ingress rule: the HTTP port, from the listed clients, the monitoring namespace's
    # Prometheus and the release's own helm test pod
    (ingress,) = spec["ingress"]
    assert ingress["ports"] == HTTP
    listed = values["networkPolicy"]["ingress"]["from"]
    monitoring = values["networkPolicy"]["ingress"]["monitoring"]
    assert ingress["from"] == [
        release_pods(kube),
        *listed,
        {
            "namespaceSelector": monitoring["namespaceSelector"],
            "podSelector": monitoring["podSelector"],
        },
    ]
    # the named port is the server's
    ports = {p["name"] for p in kube.server_container(deploy)["ports"]}
    assert "http" in ports
    # pre-filled cache: DNS and the release's own pods, nothing else
    assert egress_to(policy, DNS_PORTS) == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert egress_to(policy, HTTP) == [release_pods(kube)]
    assert len(spec["egress"]) == 2


def test_it_selects_every_pod_the_release_runs(render: Any, kube: Any) -> None:
    values = {
        "networkPolicy": {"enabled": True, "egress": {"download": {"to": [PROXY]}}},
        "modelDownload": {"mode": "job"},
        "modelCache": {
            "type": "persistentVolumeClaim",
            "persistentVolumeClaim": {"existingClaim": "m"},
        },
    }
    docs = render(values, hooks=True)
    selector = kube.one(docs, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
    pods = 0
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
        elif doc["kind"] == "Pod":
            labels = doc["metadata"]["labels"]
        else:
            continue
        assert selector.items() <= labels.items(), doc["kind"]
        pods += 1
    assert pods == 3  # the server, the download Job, the helm test


@pytest.mark.parametrize(
    ("download", "cache", "expected"),
    [
        # the server downloads on start (emptyDir, PVC): through the named proxy
        ({"to": [PROXY], "ports": [{"port": 3128, "protocol": "TCP"}]}, {}, [PROXY]),
        (
            {"to": [PROXY]},
            {"type": "persistentVolumeClaim"},
            [PROXY],
        ),
    ],
)
def test_a_download_may_reach_only_what_the_operator_names(
    render: Any, kube: Any, download: dict[str, Any], cache: dict[str, Any], expected: Any
) -> None:
    values = {
        "networkPolicy": {"enabled": True, "egress": {"download": download}},
        "modelCache": cache,
    }
    policy = policy_of(render, kube, values)
    ports = download.get("ports", [{"port": 443, "protocol": "TCP"}])
    assert egress_to(policy, ports) == expected
    assert len(policy["spec"]["egress"]) == 3


def test_public_internet_leaves_out_the_private_ranges(render: Any, kube: Any) -> None:
    values = {"networkPolicy": {"enabled": True, "egress": {"download": {"publicInternet": True}}}}
    policy = policy_of(render, kube, values)
    (peer,) = egress_to(policy, [{"port": 443, "protocol": "TCP"}])
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"):
        assert private in peer["ipBlock"]["except"]


@pytest.mark.parametrize(
    "values",
    [
        {"modelCache": PREFILLED},
        {"models": {"offline": True}},
        {"models": {"preset": "offline"}},
    ],
    ids=["prefilled", "offline", "offline-preset"],
)
def test_no_download_no_egress_beyond_dns(render: Any, kube: Any, values: dict[str, Any]) -> None:
    # the download peers are named but unused: nothing fetches models
    values = {**values, "networkPolicy": {"enabled": True, "egress": {"download": {"to": [PROXY]}}}}
    policy = policy_of(render, kube, values)
    assert [rule["ports"] for rule in policy["spec"]["egress"]] == [DNS_PORTS, HTTP]


@pytest.mark.parametrize(
    "values",
    [
        {},  # the server downloads on start
        {"models": {"offline": True}, "modelDownload": {"mode": "initContainer"}},
        {"models": {"preset": "offline", "dense": "org/other-model"}},
    ],
    ids=["server", "init-container", "preset-with-a-hub-model"],
)
def test_a_download_with_nowhere_to_go_fails_the_render(
    helm: Any, chart: Any, values: dict[str, Any]
) -> None:
    values = {**values, "networkPolicy": {"enabled": True}}
    with pytest.raises(helm.HelmRenderError, match=r"networkPolicy\.egress\.download\.to"):
        chart.render(values, name="se", namespace="ml")


def test_ingress_from_listed_peers_and_monitoring_off(render: Any, kube: Any) -> None:
    values = {
        "networkPolicy": {
            "enabled": True,
            "ingress": {"from": [SEARCH, QUERY_PODS], "monitoring": {"enabled": False}},
        },
        "modelCache": PREFILLED,
    }
    (ingress,) = policy_of(render, kube, values)["spec"]["ingress"]
    assert ingress["from"] == [release_pods(kube), SEARCH, QUERY_PODS]


def test_extra_egress_rules_are_added(render: Any, kube: Any) -> None:
    otlp = {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "otel"}}}],
        "ports": [{"port": 4317, "protocol": "TCP"}],
    }
    values = {
        "networkPolicy": {"enabled": True, "egress": {"extra": [otlp]}},
        "modelCache": PREFILLED,
    }
    assert policy_of(render, kube, values)["spec"]["egress"][-1] == otlp


def test_every_ci_example_has_a_policy_matching_its_downloads(
    render: Any, kube: Any, ci_values: dict[str, Any], ci_name: str
) -> None:
    """A scanner passes every example (CKV2_K8S_6): each one turns the policy on, and only
    those that download models may reach anything beyond DNS."""
    values = ci_values[ci_name]
    policy = policy_of(render, kube, values)
    downloads = ci_name in {"autoscaling", "cpu", "download-init", "download-job", "gpu"}
    assert (len(policy["spec"]["egress"]) == 3) == downloads, ci_name
    proxy = [p for p in egress_to(policy, [{"port": 3128, "protocol": "TCP"}])]
    if proxy:  # a proxy in the policy is the one the pods are told to use
        container = kube.server_container(kube.one(render(values), "Deployment"))
        assert kube.env_of(container)["HTTPS_PROXY"] == "http://squid.egress-proxy.svc:3128"
