"""What the chart does for a cluster's security review (issue 30): tokens reach the pods as
files of read-only Secret volumes, never as environment variables; the image by digest and
the pull policy that follows from it; and the scanner findings it accepts, each as checkov's
inline annotation with its reason, present only while it applies."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath
from typing import Any

import pytest

TOKEN_FILE = "/etc/smart-embedder/api-token/token"
HUB_TOKEN_FILE = "/etc/smart-embedder/hub-token/token"
DIGEST = "sha256:" + "ab" * 32
WORKLOADS = ("Deployment", "Job", "Pod")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]
    return spec


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc)
    return [*spec.get("initContainers", []), *spec["containers"]]


def skips(doc: dict[str, Any]) -> dict[str, str]:
    """checkov's inline suppressions of an object: check id -> reason."""
    annotations = doc["metadata"].get("annotations") or {}
    found = {}
    for key, value in annotations.items():
        if key.startswith("checkov.io/skip"):
            check, _, reason = value.partition("=")
            found[check] = reason
    return found


def file_source(doc: dict[str, Any], container: dict[str, Any], path: str) -> dict[str, Any]:
    """The Secret volume (and its item) that ``path`` reads, through a read-only mount."""
    parent = str(PurePosixPath(path).parent)
    mount = next(m for m in container["volumeMounts"] if m["mountPath"].rstrip("/") == parent)
    assert mount["readOnly"] is True and "subPath" not in mount  # updates must show
    volume = next(v for v in pod_spec(doc)["volumes"] if v["name"] == mount["name"])
    return dict(volume["secret"])


@pytest.fixture(scope="module")
def every_render(render: Any, ci_values: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [render(values, hooks=True) for values in [{}, *ci_values.values()]]


def test_no_secret_reaches_a_container_as_a_variable(every_render: Any) -> None:
    for docs in every_render:
        for doc in (d for d in docs if d["kind"] in WORKLOADS):
            for container in containers(doc):
                for env in container.get("env", []):
                    assert "secretKeyRef" not in env.get("valueFrom", {}), (doc["kind"], env)


def test_the_api_token_is_a_file_of_the_charts_secret(render: Any, kube: Any) -> None:
    docs = render({"auth": {"apiToken": "s3cret"}}, hooks=True)
    secret = kube.one(docs, "Secret")
    assert secret["data"] == {"api-token": base64.b64encode(b"s3cret").decode()}
    deploy = kube.one(docs, "Deployment")
    server = kube.server_container(deploy)
    env = kube.env_of(server)
    assert env["API_TOKEN_FILE"] == TOKEN_FILE and "API_TOKEN" not in env
    source = file_source(deploy, server, TOKEN_FILE)
    assert source == {
        "secretName": secret["metadata"]["name"],
        "items": [{"key": "api-token", "path": "token"}],
    }
    # A changed token in the chart's Secret rolls the pods (the server would also reload it).
    assert "checksum/secret" in deploy["spec"]["template"]["metadata"]["annotations"]
    # The helm test reads the same file.
    test_pod = kube.one(docs, "Pod")
    test_container = test_pod["spec"]["containers"][0]
    assert kube.env_of(test_container)["API_TOKEN_FILE"] == TOKEN_FILE
    assert file_source(test_pod, test_container, TOKEN_FILE) == source
    assert 'os.environ["API_TOKEN_FILE"]' in test_container["args"][0]
    assert "s3cret" not in repr(docs)


def test_the_api_token_from_an_existing_secret(render: Any, kube: Any) -> None:
    values = {"auth": {"existingSecret": "my-token", "existingSecretKey": "token"}}
    docs = render(values)
    assert kube.maybe(docs, "Secret") is None
    deploy = kube.one(docs, "Deployment")
    server = kube.server_container(deploy)
    assert kube.env_of(server)["API_TOKEN_FILE"] == TOKEN_FILE
    assert file_source(deploy, server, TOKEN_FILE) == {
        "secretName": "my-token",
        "items": [{"key": "token", "path": "token"}],
    }


@pytest.mark.parametrize("mode", ["", "initContainer", "job"])
def test_the_hub_token_is_a_file_wherever_models_download(
    render: Any, kube: Any, mode: str
) -> None:
    values: dict[str, Any] = {
        "hubToken": {"existingSecret": "hf", "existingSecretKey": "t"},
        "modelDownload": {"mode": mode},
    }
    if mode == "job":
        values["modelCache"] = {
            "type": "persistentVolumeClaim",
            "persistentVolumeClaim": {"existingClaim": "models"},
        }
    docs = render(values, hooks=True)
    pods = [kube.one(docs, "Deployment"), *(d for d in docs if d["kind"] == "Job")]
    checked = 0
    for doc in pods:
        for container in containers(doc):
            env = kube.env_of(container)
            if container["name"] not in ("server", "model-download"):
                continue
            assert env["HF_TOKEN_PATH"] == HUB_TOKEN_FILE and "HF_TOKEN" not in env
            source = file_source(doc, container, HUB_TOKEN_FILE)
            assert source == {"secretName": "hf", "items": [{"key": "t", "path": "token"}]}
            checked += 1
    assert checked == (1 if mode == "" else 2)


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ({}, "Always"),  # a tag can be moved to another image: check on every start
        ({"tag": "1.2.3"}, "Always"),
        ({"digest": DIGEST}, "IfNotPresent"),  # a digest names one image for ever
        ({"tag": "1.2.3", "digest": DIGEST}, "IfNotPresent"),
        ({"pullPolicy": "Never"}, "Never"),  # an explicit value wins (kind, skaffold)
        ({"digest": DIGEST, "pullPolicy": "Always"}, "Always"),
    ],
)
def test_digest_wins_over_the_tag_and_sets_the_pull_policy(
    render: Any, kube: Any, image: dict[str, str], policy: str
) -> None:
    values = {
        "image": {"repository": "reg.example/se", **image},
        "modelDownload": {"mode": "initContainer"},
    }
    docs = render(values, hooks=True)
    want = (
        f"reg.example/se@{DIGEST}"
        if "digest" in image
        else f"reg.example/se:{image.get('tag', '0.1.0-cpu')}"
    )
    seen = [c for d in docs if d["kind"] in WORKLOADS for c in containers(d)]
    assert len(seen) == 3  # the download init container, the server, the helm test
    for container in seen:
        assert (container["image"], container["imagePullPolicy"]) == (want, policy)


def test_accepted_findings_are_annotated_only_while_they_apply(render: Any, kube: Any) -> None:
    by_tag = render({}, hooks=True)
    deploy = kube.one(by_tag, "Deployment")
    assert set(skips(deploy)) == {"CKV_K8S_11", "CKV_K8S_43"}
    assert "CFS throttling" in skips(deploy)["CKV_K8S_11"]
    assert "image.digest" in skips(deploy)["CKV_K8S_43"]
    assert set(skips(kube.one(by_tag, "Pod"))) == {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_43"}
    # A CPU limit and a digest: nothing left to accept on the server.
    pinned = render(
        {"image": {"digest": DIGEST}, "resources": {"limits": {"cpu": "4", "memory": "8Gi"}}},
        hooks=True,
    )
    assert skips(kube.one(pinned, "Deployment")) == {}
    assert set(skips(kube.one(pinned, "Pod"))) == {"CKV_K8S_8", "CKV_K8S_9"}
    job = {
        "modelDownload": {"mode": "job", "resources": {"limits": {"cpu": "2"}}},
        "modelCache": {
            "type": "persistentVolumeClaim",
            "persistentVolumeClaim": {"existingClaim": "m"},
        },
    }
    assert set(skips(kube.one(render(job, hooks=True), "Job"))) == {"CKV_K8S_43"}


def test_every_suppression_reads_as_checkov_parses_it(every_render: Any) -> None:
    """checkov splits the value on "=": one id, one reason, and the reason must not be empty
    or contain another "=" (checkov would fail on it)."""
    seen = set()
    for docs in every_render:
        for doc in docs:
            annotations = doc["metadata"].get("annotations") or {}
            numbered = sorted(k for k in annotations if k.startswith("checkov.io/skip"))
            assert numbered == [f"checkov.io/skip{i}" for i in range(1, len(numbered) + 1)]
            for key in numbered:
                check, reason = annotations[key].split("=")
                assert check.startswith("CKV_K8S_") and len(reason) > 40
                seen.add(check)
    assert seen == {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11", "CKV_K8S_43"}
