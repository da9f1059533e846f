"""Cross-object checks on the rendered chart: what a schema can't see but a
cluster would trip on (selectors, ports, probe routes, scale targets, grace
period vs drain, secrets, volumes), for the defaults and every ci file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
CI_NAMES = sorted(
    p.name.removesuffix("-values.yaml")
    for p in (Path(__file__).resolve().parents[2] / "charts/smart-embedder/ci").glob(
        "*-values.yaml"
    )
)


@pytest.fixture(params=["default", *CI_NAMES])
def case(request: pytest.FixtureRequest, render: Any, ci_values: dict[str, Any]) -> Any:
    values = {} if request.param == "default" else ci_values[request.param]
    return request.param, values, render(values), render(values, hooks=True)


def _subset(small: dict[str, str], big: dict[str, str]) -> bool:
    return all(big.get(k) == v for k, v in small.items())


def _prestop_seconds(container: dict[str, Any]) -> int:
    pre = container["lifecycle"]["preStop"]
    if "sleep" in pre:
        return int(pre["sleep"]["seconds"])
    command = pre["exec"]["command"]
    assert command[0] == "sleep", command
    return int(command[1])


def test_selectors_match_labels(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    deploy = kube.one(docs, "Deployment")
    selector = deploy["spec"]["selector"]["matchLabels"]
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert _subset(selector, pod_labels)
    # The immutable selector carries no version, so upgrades never need a delete.
    assert not {"app.kubernetes.io/version", "helm.sh/chart"} & set(selector)

    service = kube.one(docs, "Service")
    assert _subset(service["spec"]["selector"], pod_labels)
    assert service["spec"]["selector"] == selector

    pdb = kube.maybe(docs, "PodDisruptionBudget")
    if pdb:
        assert pdb["spec"]["selector"]["matchLabels"] == selector

    monitor = kube.maybe(docs, "ServiceMonitor")
    if monitor:
        assert _subset(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
        port_names = {p["name"] for p in service["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in port_names
            assert endpoint["path"] == "/metrics"
        assert monitor["spec"]["namespaceSelector"]["matchNames"] == [kube.NAMESPACE]


def test_service_targets_a_named_container_port(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    container = kube.server_container(kube.one(docs, "Deployment"))
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    for port in kube.one(docs, "Service")["spec"]["ports"]:
        assert isinstance(port["targetPort"], str), "target a port by name, not number"
        assert port["targetPort"] in named
    env = kube.env_of(container)
    assert int(env["PORT"]) == named["http"]


def test_probes_use_real_routes(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    container = kube.server_container(kube.one(docs, "Deployment"))
    port_names = {p["name"] for p in container["ports"]}
    paths = {}
    for probe in PROBES:
        get = container[probe]["httpGet"]
        assert get["path"] in kube.APP_ROUTES, f"{probe} uses {get['path']}"
        assert get["port"] in port_names
        paths[probe] = get["path"]
    assert paths == {
        "startupProbe": "/readyz",
        "readinessProbe": "/readyz",
        "livenessProbe": "/livez",
    }


def test_startup_probe_covers_a_first_download(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    startup = kube.server_container(kube.one(docs, "Deployment"))["startupProbe"]
    # bge-m3 + bge-reranker-v2-m3 are ~4.5 GB: give the first start 20 minutes at least.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 20 * 60


def test_grace_period_covers_drain_and_prestop(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    deploy = kube.one(docs, "Deployment")
    container = kube.server_container(deploy)
    drain = int(kube.env_of(container)["SHUTDOWN_DRAIN_SECONDS"])
    grace = deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= drain + _prestop_seconds(container)


@pytest.mark.parametrize(
    "shutdown",
    [
        {"drainSeconds": 30, "preStopSleepSeconds": 5},
        {"drainSeconds": 120, "preStopSleepSeconds": 10},
        {"drainSeconds": 0, "preStopSleepSeconds": 0},
        {"drainSeconds": 30, "preStopSleepSeconds": 5, "terminationGracePeriodSeconds": 35},
        {"drainSeconds": 60, "preStopSleepSeconds": 15, "useSleepAction": True},
    ],
)
def test_grace_period_rule_for_other_settings(render: Any, kube: Any, shutdown: dict) -> None:
    deploy = kube.one(render({"shutdown": shutdown}), "Deployment")
    container = kube.server_container(deploy)
    grace = deploy["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert _prestop_seconds(container) == shutdown["preStopSleepSeconds"]
    assert kube.env_of(container)["SHUTDOWN_DRAIN_SECONDS"] == str(shutdown["drainSeconds"])
    assert grace >= shutdown["drainSeconds"] + shutdown["preStopSleepSeconds"]
    if "terminationGracePeriodSeconds" in shutdown:
        assert grace == shutdown["terminationGracePeriodSeconds"]


def test_scalers_target_the_deployment(case: Any, kube: Any) -> None:
    name, values, docs, _ = case
    deploy = kube.one(docs, "Deployment")
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy["metadata"]["name"]}
    hpa = kube.maybe(docs, "HorizontalPodAutoscaler")
    scaled = kube.maybe(docs, "ScaledObject")
    assert (hpa is not None) == (name == "autoscaling")
    assert (scaled is not None) == (name == "keda")
    for scaler in (hpa, scaled):
        if scaler:
            assert scaler["spec"]["scaleTargetRef"] == target
            # The autoscaler owns replicas: a fixed count would fight it on every upgrade.
            assert "replicas" not in deploy["spec"]
    if hpa:
        assert hpa["apiVersion"] == "autoscaling/v2"
        pods = [m for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
        assert len(pods) == 1
        assert pods[0]["pods"]["metric"]["name"] == "smart_embedder_queue_depth"
        assert pods[0]["pods"]["target"]["type"] == "AverageValue"
        # queueDepth.priority: the metric counts one priority class's requests only
        wanted = values["autoscaling"]["queueDepth"].get("priority")
        selector = pods[0]["pods"]["metric"].get("selector", {}).get("matchLabels", {})
        assert selector.get("priority") == (wanted or None)
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    if scaled:
        trigger = scaled["spec"]["triggers"][0]
        assert trigger["type"] == "prometheus"
        assert "smart_embedder_queue_depth" in trigger["metadata"]["query"]
        service = kube.one(docs, "Service")["metadata"]["name"]
        assert f'service="{service}"' in trigger["metadata"]["query"]
        assert f'namespace="{kube.NAMESPACE}"' in trigger["metadata"]["query"]
        wanted = values["keda"].get("priority")
        assert (f'priority="{wanted}"' in trigger["metadata"]["query"]) == bool(wanted)
    if not (hpa or scaled):
        assert deploy["spec"]["replicas"] >= 1


def test_security_context(case: Any, kube: Any) -> None:
    _, _, _, all_docs = case
    for doc in all_docs:
        if doc["kind"] not in ("Deployment", "Job", "Pod"):
            continue
        spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["privileged"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert "resources" in container


def test_writable_paths_are_volumes(case: Any, kube: Any) -> None:
    """Read-only root fs: /tmp and the model cache must be mounted volumes, and the
    cache env vars point at the cache mount."""
    _, values, docs, _ = case
    pod = kube.one(docs, "Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    container = kube.server_container(kube.one(docs, "Deployment"))
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    for mount in container["volumeMounts"]:
        assert mount["name"] in volumes
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    env = kube.env_of(container)
    cache = mounts[env["MODEL_CACHE_DIR"]]
    # HF_HOME and XDG_CACHE_HOME must be writable: under the /tmp emptyDir.
    assert env["HF_HOME"].startswith("/tmp/")
    assert env["XDG_CACHE_HOME"].startswith("/tmp/")
    cache_type = values.get("modelCache", {}).get("type", "emptyDir")
    volume = volumes[cache["name"]]
    if cache_type == "emptyDir":
        assert "emptyDir" in volume
    elif cache_type == "persistentVolumeClaim":
        existing = values["modelCache"].get("persistentVolumeClaim", {}).get("existingClaim")
        claim = existing or kube.one(docs, "PersistentVolumeClaim")["metadata"]["name"]
        assert volume["persistentVolumeClaim"]["claimName"] == claim
    else:  # prefilled: read-only, never fetched
        assert cache["readOnly"] is True
        assert env["HF_HUB_OFFLINE"] == "1"


def test_secret_references_resolve(case: Any, kube: Any) -> None:
    _, values, docs, all_docs = case
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    auth = values.get("auth", {})
    external = {
        auth.get("existingSecret"),
        auth.get("apiKeys", {}).get("existingSecret"),
        values.get("hubToken", {}).get("existingSecret"),
    } - {None, ""}
    for doc in all_docs:
        if doc["kind"] not in ("Deployment", "Job", "Pod"):
            continue
        spec = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
        for volume in spec.get("volumes", []):
            if "secret" not in volume or volume["secret"]["secretName"] in external:
                continue
            data = secrets[volume["secret"]["secretName"]]["data"]
            assert {item["key"] for item in volume["secret"].get("items", [])} <= set(data)
    for secret in secrets.values():
        assert set(secret["data"]) <= {"api-token", "hf-token"}


def test_service_account_exists(case: Any, kube: Any) -> None:
    _, _, docs, _ = case
    name = kube.one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    assert kube.one(docs, "ServiceAccount")["metadata"]["name"] == name


def test_helm_test_pod_calls_the_service(case: Any, kube: Any) -> None:
    _, _, docs, all_docs = case
    hooks = [
        d
        for d in all_docs
        if (d["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"
    ]
    assert len(hooks) == 1
    pod = hooks[0]
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    service = kube.one(docs, "Service")
    env = kube.env_of(pod["spec"]["containers"][0])
    port = service["spec"]["ports"][0]["port"]
    assert env["BASE_URL"] == f"http://{service['metadata']['name']}.{kube.NAMESPACE}.svc:{port}"
    script = pod["spec"]["containers"][0]["args"][0]
    for route in re.findall(r'call\("([^"]+)"', script):
        assert route in kube.APP_ROUTES
    compile(script, "helm-test", "exec")  # the embedded Python is valid


def test_names_and_labels_are_valid(case: Any, kube: Any) -> None:
    _, _, _, all_docs = case
    label_value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
    for doc in all_docs:
        meta = doc["metadata"]
        assert len(meta["name"]) <= 63
        assert meta["namespace"] == kube.NAMESPACE
        for value in meta["labels"].values():
            assert len(value) <= 63 and label_value.match(value), value


def test_long_release_name_is_truncated(render: Any, kube: Any) -> None:
    docs = render({}, release="x" * 70)
    for doc in docs:
        assert len(doc["metadata"]["name"]) <= 63


def test_gpu_values(render: Any, ci_values: dict[str, Any], kube: Any) -> None:
    docs = render(ci_values["gpu"])
    pod = kube.one(docs, "Deployment")["spec"]["template"]["spec"]
    container = kube.server_container(kube.one(docs, "Deployment"))
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"].endswith("-gpu")
    assert kube.env_of(container)["DEVICE"] == "cuda"
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    env = kube.env_of(container)
    assert env["DENSE_EMBEDDING_MODEL"] == "Qwen/Qwen3-Embedding-0.6B"
    assert env["RERANKER_MODEL"] == "Qwen/Qwen3-Reranker-0.6B"
    assert env["HF_TOKEN_PATH"] == "/etc/smart-embedder/hub-token/token"
    assert {
        "name": "hub-token",
        "secret": {"secretName": "hf-hub-token", "items": [{"key": "token", "path": "token"}]},
    } in pod["volumes"]


def test_cpu_default_values(render: Any, kube: Any) -> None:
    container = kube.server_container(kube.one(render({}), "Deployment"))
    env = kube.env_of(container)
    assert env["DEVICE"] == "cpu"
    assert container["image"] == "smart-embedder:0.1.0-cpu"
    assert "nvidia.com/gpu" not in container["resources"].get("limits", {})
    # App defaults pick the models: no model env is forced, so presets work.
    assert not {"BGE_M3_MODEL", "RERANKER_MODEL", "PRESET", "API_TOKEN"} & set(env)


def test_model_choice_env(render: Any, kube: Any) -> None:
    values = {
        "models": {
            "bgeM3": "/models/bge-m3",
            "dense": "Qwen/Qwen3-Embedding-0.6B",
            "sparse": "naver/splade-v3",
            "reranker": "BAAI/bge-reranker-v2-m3",
            "revision": "main",
            "offline": True,
        },
        "env": {"BGE_RERANK_MAX_LENGTH": 1024},
        "server": {"maxBatchTokens": 16384, "requestTimeout": 30},
    }
    env = kube.env_of(kube.server_container(kube.one(render(values), "Deployment")))
    assert env["BGE_M3_MODEL"] == "/models/bge-m3"
    assert env["DENSE_EMBEDDING_MODEL"] == "Qwen/Qwen3-Embedding-0.6B"
    assert env["SPARSE_EMBEDDING_MODEL"] == "naver/splade-v3"
    assert env["RERANKER_MODEL"] == "BAAI/bge-reranker-v2-m3"
    assert env["MODEL_REVISION"] == "main"
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["BGE_RERANK_MAX_LENGTH"] == "1024"
    assert env["MAX_BATCH_TOKENS"] == "16384"
    assert env["REQUEST_TIMEOUT"] == "30"


def test_rerank_can_be_disabled(render: Any, kube: Any) -> None:
    docs = render({"models": {"rerankEnabled": False}}, hooks=True)
    env = kube.env_of(kube.server_container(kube.one(docs, "Deployment")))
    assert env["RERANKER_MODEL"] == ""
    test_pod = kube.one(docs, "Pod")
    assert kube.env_of(test_pod["spec"]["containers"][0])["CHECK_RERANK"] == "0"


def test_api_keys_file_from_an_existing_secret(render: Any, kube: Any) -> None:
    values = {"auth": {"apiKeys": {"existingSecret": "team-keys", "helmTestKey": "helm-test"}}}
    docs = render(values, hooks=True)
    assert kube.maybe(docs, "Secret") is None  # the keys are the operator's Secret
    deploy = kube.one(docs, "Deployment")
    container = kube.server_container(deploy)
    env = kube.env_of(container)
    assert env["API_KEYS_FILE"] == "/etc/smart-embedder/api-keys/keys.yaml"
    assert not {"API_TOKEN", "API_TOKEN_FILE"} & set(env)
    # The whole Secret is mounted (a subPath mount never sees the kubelet's updates), and
    # an update is picked up by the server: no checksum rolls the pods.
    mount = next(m for m in container["volumeMounts"] if m["name"] == "api-keys")
    assert mount == {
        "name": "api-keys",
        "mountPath": "/etc/smart-embedder/api-keys",
        "readOnly": True,
    }
    volumes = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
    assert volumes["api-keys"] == {"name": "api-keys", "secret": {"secretName": "team-keys"}}
    assert "checksum/secret" not in deploy["spec"]["template"]["metadata"]["annotations"]
    # The helm test sends the plain key the operator put in the same Secret for it.
    test_pod = kube.one(docs, "Pod")["spec"]
    assert kube.env_of(test_pod["containers"][0])["API_TOKEN_FILE"] == (
        "/etc/smart-embedder/api-token/token"
    )
    assert test_pod["volumes"] == [
        {
            "name": "api-token",
            "secret": {"secretName": "team-keys", "items": [{"key": "helm-test", "path": "token"}]},
        }
    ]
    # Another key and directory, beside API_TOKEN.
    both = {
        "auth": {
            "apiToken": "t",
            "apiKeys": {"existingSecret": "k", "secretKey": "ks.yaml", "mountPath": "/keys/"},
        }
    }
    env = kube.env_of(kube.server_container(kube.one(render(both), "Deployment")))
    assert env["API_KEYS_FILE"] == "/keys/ks.yaml"
    assert env["API_TOKEN_FILE"] == "/etc/smart-embedder/api-token/token"
    default = kube.env_of(kube.server_container(kube.one(render({}), "Deployment")))
    assert "API_KEYS_FILE" not in default


def test_existing_pvc(render: Any, kube: Any) -> None:
    values = {
        "modelCache": {
            "type": "persistentVolumeClaim",
            "persistentVolumeClaim": {"existingClaim": "shared-models"},
        }
    }
    docs = render(values)
    assert kube.maybe(docs, "PersistentVolumeClaim") is None
    volumes = kube.one(docs, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "shared-models"}} in volumes


def test_offline_preset(render: Any, ci_values: dict[str, Any], kube: Any) -> None:
    docs = render(ci_values["servicemonitor"], hooks=True)
    env = kube.env_of(kube.server_container(kube.one(docs, "Deployment")))
    assert env["PRESET"] == "offline"
    # The offline preset ships no reranker, so the helm test does not call /rerank.
    test_pod = kube.one(docs, "Pod")
    assert kube.env_of(test_pod["spec"]["containers"][0])["CHECK_RERANK"] == "0"


def test_notes_render(render_raw: Any, ci_values: dict[str, Any]) -> None:
    for values in [{}, *ci_values.values()]:
        notes = next(v for k, v in render_raw(values).items() if k.endswith("NOTES.txt"))
        assert "rollout status deployment/" in notes
        assert "/embeddings/" in notes
    notes = next(v for k, v in render_raw(ci_values["autoscaling"]).items() if "NOTES" in k)
    assert "custom.metrics.k8s.io" in notes


def test_node_port(render: Any, kube: Any) -> None:
    docs = render({"service": {"type": "NodePort", "nodePort": 30080}})
    port = kube.one(docs, "Service")["spec"]["ports"][0]
    assert port["nodePort"] == 30080
    default = kube.one(render({}), "Service")["spec"]["ports"][0]
    assert "nodePort" not in default


def test_torch_threads_follow_the_cpu_request(render: Any, kube: Any) -> None:
    container = kube.server_container(kube.one(render({}), "Deployment"))
    source = kube.env_of(container)["CPU_THREADS"]["resourceFieldRef"]
    assert source == {"resource": "requests.cpu", "divisor": "1"}
    # No CPU request (null deletes the default): the server falls back to its affinity and
    # the cgroup CPU limit.
    bare = render({"resources": {"requests": {"cpu": None}}})
    assert "CPU_THREADS" not in kube.env_of(kube.server_container(kube.one(bare, "Deployment")))


def test_api_workers_value_sets_the_setting(render: Any, kube: Any) -> None:
    default = kube.env_of(kube.server_container(kube.one(render({}), "Deployment")))
    assert "API_WORKERS" not in default  # derived from the CPU request by the server
    docs = render({"server": {"apiWorkers": 3}})
    assert kube.env_of(kube.server_container(kube.one(docs, "Deployment")))["API_WORKERS"] == "3"


def test_priority_settings_env(render: Any, kube: Any) -> None:
    def env(values: dict[str, Any]) -> dict[str, Any]:
        return dict(kube.env_of(kube.server_container(kube.one(render(values), "Deployment"))))

    defaults = env({})
    assert defaults["PRIORITIES"] == "true"
    assert "BATCH_MAX_QUEUE_SIZE" not in defaults and "BATCH_RERANK_MAX_QUEUE" not in defaults
    server = {"priorities": False, "batchMaxQueueSize": 500, "batchRerankMaxQueue": 40}
    configured = env({"server": server})
    assert configured["PRIORITIES"] == "false"
    assert configured["BATCH_MAX_QUEUE_SIZE"] == "500"
    assert configured["BATCH_RERANK_MAX_QUEUE"] == "40"
    # the HPA counts every class unless told one, next to a selector of the operator's own
    hpa = kube.one(
        render(
            {
                "autoscaling": {
                    "enabled": True,
                    "queueDepth": {"selector": {"queue": "embed"}, "priority": "interactive"},
                }
            }
        ),
        "HorizontalPodAutoscaler",
    )
    metric = hpa["spec"]["metrics"][0]["pods"]["metric"]
    assert metric["selector"]["matchLabels"] == {"queue": "embed", "priority": "interactive"}
