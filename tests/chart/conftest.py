"""Fixtures for the Helm chart tests: the real Helm engine (helm-python-sdk), no
helm binary and no cluster. The `helm` fixture importorskips helm_python, so the
tests skip with a reason when the library is absent.

Helpers reach the test modules through fixtures (`kube`, `ci_values`), never by
importing this file, so the tests work under any pytest import mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "charts" / "smart-embedder"
CI_DIR = CHART_DIR / "ci"
RELEASE = "se"
NAMESPACE = "ml"

# The routes the app serves (SPEC §1.3). Probes and the helm test may only use these;
# the app's own tests check that it serves them.
APP_ROUTES = frozenset(
    {
        "/livez",
        "/readyz",
        "/health",
        "/stats",
        "/metrics",
        "/embeddings/",
        "/embeddings",
        "/rerank",
        "/v1/embeddings",
        "/v1/rerank",
        "/v2/rerank",
        "/v1/models",
        "/docs",
        "/openapi.json",
    }
)

Docs = list[dict[str, Any]]
RenderFn = Callable[..., Docs]


KUBE_VERSIONS = ("1.29", "1.33")


def ci_value_files() -> list[Path]:
    return sorted(CI_DIR.glob("*-values.yaml"))


def load_yaml(path: Path) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    return yaml.safe_load(path.read_text()) or {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`ci_name` runs a test once per ci/*-values.yaml; `kube_version` per version."""
    if "ci_name" in metafunc.fixturenames:
        names = [p.name.removesuffix("-values.yaml") for p in ci_value_files()]
        metafunc.parametrize("ci_name", names)
    if "kube_version" in metafunc.fixturenames:
        metafunc.parametrize("kube_version", KUBE_VERSIONS)


@pytest.fixture(scope="session")
def ci_values() -> dict[str, dict[str, Any]]:
    """ci file stem (cpu, gpu, ...) -> its values."""
    return {p.name.removesuffix("-values.yaml"): load_yaml(p) for p in ci_value_files()}


@pytest.fixture(scope="session")
def helm() -> Any:
    return pytest.importorskip(
        "helm_python",
        reason="helm-python-sdk is not installed (pip install helm-python-sdk); "
        "the chart tests need the real Helm engine",
    )


@pytest.fixture(scope="session")
def chart(helm: Any) -> Any:
    loaded = helm.Chart.load(str(CHART_DIR))
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def render_raw(chart: Any) -> Callable[..., dict[str, str]]:
    """Template path -> rendered text (NOTES and hooks included), cached."""
    cache: dict[str, dict[str, str]] = {}

    def _render(
        values: dict[str, Any] | None = None, *, release: str = RELEASE, namespace: str = NAMESPACE
    ) -> dict[str, str]:
        key = json.dumps([values or {}, release, namespace], sort_keys=True)
        if key not in cache:
            cache[key] = chart.render(values or {}, name=release, namespace=namespace)
        return cache[key]

    return _render


@pytest.fixture(scope="session")
def render(render_raw: Callable[..., dict[str, str]]) -> RenderFn:
    """Parsed objects of a render. hooks=False leaves out `helm test` pods."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")

    def _render(values: dict[str, Any] | None = None, *, hooks: bool = False, **kw: Any) -> Docs:
        docs: Docs = []
        for template, text in sorted(render_raw(values, **kw).items()):
            if not template.endswith(".yaml"):
                continue
            for doc in yaml.safe_load_all(text):
                if not doc:
                    continue
                is_hook = "helm.sh/hook" in (doc["metadata"].get("annotations") or {})
                if is_hook and not hooks:
                    continue
                docs.append(doc)
        return docs

    return _render


def one(docs: Docs, kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def maybe(docs: Docs, kind: str) -> dict[str, Any] | None:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) <= 1, f"expected at most one {kind}, got {len(found)}"
    return found[0] if found else None


def server_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "server")


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """Env name -> value (or the valueFrom dict)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.fixture(scope="session")
def kube() -> SimpleNamespace:
    """Helpers and constants for reading rendered objects."""
    return SimpleNamespace(
        one=one,
        maybe=maybe,
        server_container=server_container,
        env_of=env_of,
        APP_ROUTES=APP_ROUTES,
        ROOT=ROOT,
        CHART_DIR=CHART_DIR,
        RELEASE=RELEASE,
        NAMESPACE=NAMESPACE,
    )
