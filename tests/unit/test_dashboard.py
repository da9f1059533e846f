"""The Grafana dashboard (docs/grafana-dashboard.json, shipped in the chart) is well-formed,
queries only metrics and labels the app really exports (read back from its /metrics), and
every panel is described in docs/dashboard.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import REPO

DASHBOARD = REPO / "docs" / "grafana-dashboard.json"
CHART_COPY = REPO / "charts" / "smart-embedder" / "dashboards" / "grafana-dashboard.json"
PANEL_DOCS = REPO / "docs" / "dashboard.md"

# Labels Prometheus adds when it scrapes a pod (ServiceMonitor or pod annotations).
TARGET_LABELS = {"namespace", "job", "pod", "instance", "service", "container", "endpoint"}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_:])\d[\w.]*")  # 0.95, 1e3, and durations such as 5m
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects: identifiers that are not functions,
    aggregations, keywords, label names or text inside strings, matchers or ranges."""
    text = _RANGE.sub("", _MATCHERS.sub("", _STRING.sub('""', expr)))
    text = _NUMBER.sub("", _GROUPING.sub("", text))
    names = set()
    for match in _IDENT.finditer(text):
        after = text[match.end() :].lstrip()
        if after.startswith("(") or match[0] in _KEYWORDS:
            continue
        names.add(match[0])
    return names


def label_names(expr: str) -> set[str]:
    """Labels an expression matches on or groups by."""
    text = _STRING.sub('""', expr)
    labels = set()
    for block in _MATCHERS.findall(text):
        labels |= {m.split("=")[0].split("!")[0].strip() for m in block.split(",") if m.strip()}
    for block in _GROUPING.findall(text):
        labels |= {label.strip() for label in block.split(",") if label.strip()}
    return labels


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def all_panels(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in node.get("panels", []):
        found.append(panel)
        found += all_panels(panel)  # collapsed rows nest their panels
    return found


def queries() -> list[str]:
    """Every PromQL expression: panel targets and the selectors inside variable queries."""
    exprs = [t["expr"] for p in all_panels(dashboard()) for t in p.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["query"]["query"])
            assert inner, variable["query"]
            exprs.append(inner[1])
    return exprs


def grafana_free(expr: str) -> str:
    """The expression as Prometheus sees it once Grafana has filled in its variables."""
    return (
        expr.replace("$__rate_interval", "5m")
        .replace("$namespace", ".*")
        .replace("$job", ".*")
        .replace("$pod", ".*")
    )


# --- the query parser itself ---


def test_metric_names_are_found_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, queue) (rate(a_bucket{queue="embed", '
        'job=~"$job"}[$__rate_interval]))) / ignoring(x) b_total offset 5m + on(pod) c'
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}
    assert label_names(expr) == {"le", "queue", "job", "x", "pod"}
    assert metric_names('count(up{name="not_a_metric"}) and bool d') == {"up", "d"}


# --- the dashboard as Grafana reads it ---


def test_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] == "smart-embedder"
    assert isinstance(board["schemaVersion"], int)
    panels = all_panels(board)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"] for v in board["templating"]["list"]}
    assert {"datasource", "namespace", "job", "pod"} <= variables
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["description"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            # Every query follows the dashboard's namespace / job / pod filters.
            for name in metric_names(target["expr"]):
                assert re.search(
                    rf'{name}\{{namespace=~"\$namespace", job=~"\$job", pod=~"\$pod"',
                    target["expr"],
                ), (panel["title"], name)


def test_panels_do_not_overlap() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in all_panels(dashboard()):
        grid = panel["gridPos"]
        cells = {
            (grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells


def test_dashboard_answers_the_operator_questions() -> None:
    used = set().union(*(metric_names(q) for q in queries()))
    wanted = {
        "embedding_requests_total",  # request rate
        "rerank_requests_total",
        "smart_embedder_requests_total",  # errors by endpoint and status
        "smart_embedder_request_duration_seconds_bucket",  # latency by endpoint
        "smart_embedder_inference_duration_seconds_bucket",  # forward passes by model
        "embedding_request_duration_seconds_bucket",  # latency quantiles
        "rerank_request_duration_seconds_bucket",
        "smart_embedder_queue_depth",  # queue depth and wait
        "smart_embedder_queue_wait_seconds_bucket",
        "embedding_batch_size_bucket",  # batch size and tokens
        "smart_embedder_batch_tokens_bucket",
        "smart_embedder_batch_padding_ratio_bucket",  # padding
        "smart_embedder_requests_rejected_total",  # rejections by endpoint and reason
        "gpu_memory_allocated_bytes",  # GPU memory
        "gpu_memory_reserved_bytes",
        "gpu_memory_free_bytes",
        "gpu_memory_total_bytes",
    }
    assert wanted - used == set()
    quantiles = {
        q.split(",")[0] for q in queries() if "embedding_request_duration_seconds_bucket" in q
    }
    assert {"histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"} <= (
        quantiles
    )


# --- against the app's real /metrics ---


@pytest.fixture(scope="module")
def exported(client: Any) -> dict[str, set[str]]:
    """Sample name -> label names, from /metrics after one embedding and one rerank (so the
    histograms have samples)."""
    assert client.post("/embeddings", json={"sentences": ["a text", "another"]}).status_code == 200
    assert client.post("/rerank", json={"query": "q", "passages": ["p1", "p2"]}).status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def test_queries_use_only_exported_metrics(exported: dict[str, set[str]]) -> None:
    used = set().union(*(metric_names(q) for q in queries()))
    assert used - set(exported) == set()


def test_queries_use_only_exported_labels(exported: dict[str, set[str]]) -> None:
    known = TARGET_LABELS.union(*exported.values())
    for expr in queries():
        assert label_names(expr) - known == set(), expr


def test_queries_are_valid_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": grafana_free(expr)}
                    for i, expr in enumerate(queries())
                ],
            }
        ]
    }
    path = tmp_path / "rules.json"  # promtool reads YAML, and JSON is YAML
    path.write_text(json.dumps(rules))
    checked = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- shipped and documented ---


def test_every_panel_is_described() -> None:
    text = PANEL_DOCS.read_text()
    headings = set(re.findall(r"^### (.+)$", text, flags=re.MULTILINE))
    titles = {p["title"] for p in all_panels(dashboard()) if p["type"] != "row"}
    assert titles - headings == set()
    assert headings - titles == set()


def test_chart_ships_the_same_dashboard() -> None:
    assert CHART_COPY.read_bytes() == DASHBOARD.read_bytes(), (
        f"cp {DASHBOARD.relative_to(REPO)} {CHART_COPY.relative_to(REPO)}"
    )


def test_chart_configmap_carries_the_dashboard_for_the_sidecar() -> None:
    helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    yaml = pytest.importorskip("yaml")
    chart = helm.Chart.load(str(REPO / "charts" / "smart-embedder"))
    try:
        template = "smart-embedder/templates/dashboard-configmap.yaml"
        assert not chart.render({}, name="se", namespace="ml")[template].strip()
        values = {"dashboard": {"enabled": True, "namespace": "monitoring"}}
        configmap = yaml.safe_load(chart.render(values, name="se", namespace="ml")[template])
    finally:
        chart.close()
    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["namespace"] == "monitoring"
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["smart-embedder.json"]) == dashboard()
