"""The chart on a real kind cluster: install, rollout, embed and rerank through the
Service, `helm test`, a rolling restart under load that loses nothing, and the HPA
reading the per-pod queue-depth metric. See conftest.py for what they need; they
skip with the reason when it is missing."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("tools")

CHART = Path(__file__).resolve().parents[1] / "charts" / "smart-embedder"
NODE_PORT = 30080  # conftest.NODE_PORT: the Service's node port, on 127.0.0.1 via kind-config


def call(method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
    """One request on a fresh connection through the Service's node port."""
    conn = http.client.HTTPConnection("127.0.0.1", NODE_PORT, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, payload, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        ctype = resp.getheader("Content-Type", "")
        return resp.status, json.loads(data) if "json" in ctype and data else data
    finally:
        conn.close()


def get_raw(api_client: Any, path: str) -> Any:
    """GET an API path (an aggregated API the typed client does not cover) as JSON."""
    if hasattr(api_client, "param_serialize"):  # kubernetes >= 31 (openapi-generator 7)
        method, url, headers, body, post = api_client.param_serialize(
            "GET", path, auth_settings=["BearerToken"]
        )
        response = api_client.call_api(method, url, headers, body, post)
        assert response.status == 200, response.status
        return json.loads(response.read())
    data, status, _ = api_client.call_api(
        path, "GET", auth_settings=["BearerToken"], response_type="object",
        _return_http_data_only=False,
    )  # fmt: skip
    assert status == 200, status
    return data


def wait_rollout(kube: Any, namespace: str, name: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dep = kube.apps.read_namespaced_deployment(name, namespace)
        st, want = dep.status, dep.spec.replicas
        if (
            (st.observed_generation or 0) >= dep.metadata.generation
            and st.updated_replicas == want
            and st.ready_replicas == want
            and st.available_replicas == want
            and not st.unavailable_replicas
            and (st.replicas or 0) == want  # old pods gone
        ):
            return
        time.sleep(2)
    raise AssertionError(f"deployment {name} did not finish rolling out in {timeout:.0f}s")


def test_rollout_complete(release: dict[str, Any], kube: Any) -> None:
    wait_rollout(kube, release["namespace"], release["deployment"])
    pods = kube.core.list_namespaced_pod(
        release["namespace"], label_selector="app.kubernetes.io/component=server"
    ).items
    assert len(pods) == 2
    for pod in pods:
        ready = {c.type: c.status for c in pod.status.conditions}
        assert ready["Ready"] == "True"
        assert pod.spec.security_context.run_as_non_root is True
        assert pod.spec.containers[0].security_context.read_only_root_filesystem is True
    status, _ = call("GET", "/readyz")
    assert status == 200


def test_embed_and_rerank_through_service(release: dict[str, Any]) -> None:
    status, out = call(
        "POST", "/embeddings/", {"sentences": ["kind cluster", "second"], "return_colbert": True}
    )
    assert status == 200, out
    assert [d["id"] for d in out["data"]] == [0, 1] or len(out["data"]) == 2
    emb = out["data"][0]["embeddings"]
    assert emb["dense"] and emb["sparse"] is not None and emb["colbert"]

    status, out = call("POST", "/rerank", {"query": "q", "passages": ["a", "bb", "ccc"]})
    assert status == 200, out
    assert sorted(r["index"] for r in out["results"]) == [0, 1, 2]
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)

    status, out = call("POST", "/v1/embeddings", {"input": ["openai shape"]})
    assert status == 200, out
    assert out["object"] == "list" and out["data"][0]["embedding"]


def test_helm_test_hook_passes(release: dict[str, Any]) -> None:
    result = release["helm"].test(release["name"], timeout=300, logs=True)
    assert "ok" in result.get("logs", "ok")


def test_rolling_restart_under_load_loses_nothing(release: dict[str, Any], kube: Any) -> None:
    """Restart every pod (maxSurge 1, maxUnavailable 0, preStop sleep, drain on
    SIGTERM) while clients send requests: every request must succeed."""
    namespace, name = release["namespace"], release["deployment"]
    wait_rollout(kube, namespace, name)
    results: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    body = {"sentences": ["rolling update " * 20] * 8, "return_colbert": False}

    def client() -> None:
        while not stop.is_set():
            try:
                status, _ = call("POST", "/embeddings/", body, timeout=90)
                key = str(status)
            except OSError as exc:  # refused / reset / timeout: a lost request
                key = type(exc).__name__
            with lock:
                results[key] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(5)
    stamp = datetime.now(timezone.utc).isoformat()
    patch = {
        "spec": {
            "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}
        }
    }
    kube.apps.patch_namespaced_deployment(name, namespace, patch)
    try:
        wait_rollout(kube, namespace, name, timeout=600)
        time.sleep(10)  # load on the new pods too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    total = sum(results.values())
    assert total > 50, f"too little load to mean anything: {dict(results)}"
    assert results["200"] == total, f"lost or failed requests during the roll: {dict(results)}"


def _custom_metrics_served(kube: Any) -> bool:
    groups = kube.apis.get_api_versions().groups
    return any(g.name == "custom.metrics.k8s.io" for g in groups)


def _servicemonitor_crd(kube: Any) -> bool:
    from kubernetes import client

    crds = client.ApiextensionsV1Api(kube.api).list_custom_resource_definition().items
    return any(c.metadata.name == "servicemonitors.monitoring.coreos.com" for c in crds)


def test_hpa_reads_queue_depth_metric(release: dict[str, Any], kube: Any) -> None:
    if not _custom_metrics_served(kube):
        pytest.skip(
            "custom.metrics.k8s.io is not served: install Prometheus and prometheus-adapter "
            "with e2e/prometheus-adapter-values.yaml (see e2e/README.md)"
        )
    namespace, name = release["namespace"], release["deployment"]
    values = json.loads(json.dumps(release["values"]))
    values["autoscaling"] = {"enabled": True, "minReplicas": 2, "maxReplicas": 3}
    if _servicemonitor_crd(kube):
        labels = json.loads(os.environ.get("E2E_SERVICEMONITOR_LABELS", "{}"))
        values["metrics"] = {
            "serviceMonitor": {"enabled": True, "interval": "5s", "labels": labels}
        }
    release["helm"].upgrade(
        str(CHART),
        release["name"],
        values,
        namespace=namespace,
        wait="watcher",
        timeout=600,
    )
    metric = "smart_embedder_queue_depth"
    raw_path = f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/*/{metric}"
    deadline = time.monotonic() + 300
    last: Any = None
    while time.monotonic() < deadline:
        hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, namespace)
        current = [
            m.pods
            for m in (hpa.status.current_metrics or [])
            if m.type == "Pods" and m.pods.metric.name == metric
        ]
        conditions = {c.type: c.status for c in (hpa.status.conditions or [])}
        last = (current, conditions)
        has_value = bool(current) and current[0].current.average_value is not None
        if has_value and conditions.get("ScalingActive") == "True":
            break
        time.sleep(5)
    else:
        raise AssertionError(f"HPA never read {metric}: {last}")
    assert hpa.spec.scale_target_ref.name == name
    data = get_raw(kube.api, raw_path)
    pods = {item["describedObject"]["name"] for item in data["items"]}
    running = {
        p.metadata.name
        for p in kube.core.list_namespaced_pod(
            namespace, label_selector="app.kubernetes.io/component=server"
        ).items
        if p.status.phase == "Running"
    }
    assert running <= pods, f"custom metrics API lists {pods}, running pods {running}"
