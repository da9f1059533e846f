"""Two smart-embedder servers behind nginx, scraped by a real Prometheus, under load:
does the query that prometheus-adapter runs for the chart's HPA return each pod's
queue depth?

    python e2e/prometheus_hpa.py            # needs Debian's prometheus and nginx

Everything listens on 127.0.0.1 only and stops by itself (bounded load, bounded
waits). The query is built from the rule in e2e/prometheus-adapter-values.yaml the
way the adapter builds it (<<.Series>>, <<.LabelMatchers>>, <<.GroupBy>>), with the
`namespace` and `pod` labels that a Kubernetes scrape would attach given here as
static target labels. The KEDA ScaledObject's default query is evaluated too.

Environment: PRESET (default offline), E2E_LOAD_SECONDS (30), E2E_CLIENTS (16),
E2E_SENTENCES (8 per request), E2E_WORDS (40 per sentence), E2E_TARGET (the HPA's
averageValue target, 4).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ADAPTER_VALUES = Path(__file__).resolve().parent / "prometheus-adapter-values.yaml"
HOST = "127.0.0.1"
NGINX_PORT = 18100
SERVER_PORTS = {"smart-embedder-7d9f-a": 18101, "smart-embedder-7d9f-b": 18102}
PROM_PORT = 19090
NAMESPACE = "e2e"
SERVICE = "smart-embedder"
METRIC = "smart_embedder_queue_depth"

LOAD_SECONDS = float(os.environ.get("E2E_LOAD_SECONDS", "30"))
CLIENTS = int(os.environ.get("E2E_CLIENTS", "16"))
SENTENCES = int(os.environ.get("E2E_SENTENCES", "8"))
WORDS = int(os.environ.get("E2E_WORDS", "40"))
TARGET = float(os.environ.get("E2E_TARGET", "4"))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def need(binary: str, package: str) -> str:
    path = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.path.exists(p)), None
    )
    if not path:
        sys.exit(f"{binary} not found: apt-get install -y {package}")
    return path


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def wait_for(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def adapter_query(pods: list[str]) -> str:
    """The PromQL prometheus-adapter sends for `pods/*/<metric>` in NAMESPACE."""
    import yaml

    rule = yaml.safe_load(ADAPTER_VALUES.read_text())["rules"]["custom"][0]
    assert rule["name"]["as"] == METRIC
    matchers = f'namespace="{NAMESPACE}",pod=~"{"|".join(pods)}"'
    return (
        rule["metricsQuery"]
        .replace("<<.Series>>", METRIC)
        .replace("<<.LabelMatchers>>", matchers)
        .replace("<<.GroupBy>>", "pod")
    )


def keda_query() -> str:
    # the chart's default keda.query (templates/scaledobject.yaml)
    return f'sum({METRIC}{{namespace="{NAMESPACE}",service="{SERVICE}"}})'


def prom_query(query: str) -> dict[str, float]:
    url = f"http://{HOST}:{PROM_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, body = http_get(url)
    if status != 200:
        raise RuntimeError(f"prometheus query failed ({status}): {body[:200]}")
    result = json.loads(body)["data"]["result"]
    return {r["metric"].get("pod", "total"): float(r["value"][1]) for r in result}


def scrape_queue_depth(port: int) -> dict[str, float]:
    """The gauge straight from a server's /metrics, per queue label."""
    _, text = http_get(f"http://{HOST}:{port}/metrics")
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(METRIC + "{") or line.startswith(METRIC + " "):
            labels, _, value = line.rpartition(" ")
            queue = labels.split('queue="', 1)[1].split('"', 1)[0] if 'queue="' in labels else ""
            out[queue] = float(value)
    return out


class Stack:
    """The processes, started in order and always stopped."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        out = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.procs.append((name, proc))

    def alive(self, name: str) -> bool:
        return next(p for n, p in self.procs if n == name).poll() is None

    def stop(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                codes[name] = proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes


def nginx_conf(work: Path) -> Path:
    upstream = "\n".join(f"    server {HOST}:{port};" for port in SERVER_PORTS.values())
    conf = work / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
error_log {work}/nginx-error.log warn;
pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  upstream smart_embedder {{
{upstream}
    keepalive 32;
  }}
  server {{
    listen {HOST}:{NGINX_PORT};
    client_max_body_size 16m;
    client_body_buffer_size 1m;
    location / {{
      proxy_pass http://smart_embedder;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 120s;
    }}
  }}
}}
"""
    )
    return conf


def prometheus_conf(work: Path) -> Path:
    targets = "\n".join(
        f"""      - targets: ["{HOST}:{port}"]
        labels: {{namespace: "{NAMESPACE}", pod: "{pod}", service: "{SERVICE}"}}"""
        for pod, port in SERVER_PORTS.items()
    )
    conf = work / "prometheus.yml"
    conf.write_text(
        f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: smart-embedder
    metrics_path: /metrics
    static_configs:
{targets}
"""
    )
    return conf


def run_load(stop_at: float, results: Counter[str], lock: threading.Lock) -> None:
    words = "the quick brown fox jumps over the lazy dog while the embedder keeps busy"
    words = words.split(" ")
    body = json.dumps(
        {
            "sentences": [
                " ".join(words[(i + j) % len(words)] for j in range(WORDS))
                for i in range(SENTENCES)
            ],
            "return_sparse": False,
            "return_colbert": False,
        }
    )
    while time.monotonic() < stop_at:
        conn = http.client.HTTPConnection(HOST, NGINX_PORT, timeout=120)
        try:
            conn.request("POST", "/embeddings/", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            key = str(resp.status)
        except OSError as exc:
            key = type(exc).__name__
        finally:
            conn.close()
        with lock:
            results[key] += 1


def main() -> int:
    prometheus = need("prometheus", "prometheus")
    nginx = need("nginx", "nginx")
    work = Path(tempfile.mkdtemp(prefix="se-prom-"))
    work.chmod(0o755)  # nginx workers drop root: they must reach their temp folders
    for sub in ("nginx-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi", "tsdb"):
        (work / sub).mkdir()
        (work / sub).chmod(0o1777 if sub.startswith("nginx") else 0o755)
    stack = Stack(work)
    pods = list(SERVER_PORTS)
    failures: list[str] = []
    try:
        t0 = time.monotonic()
        for pod, port in SERVER_PORTS.items():
            env = dict(os.environ)
            env.update(
                HOST=HOST,
                PORT=str(port),
                PRESET=os.environ.get("PRESET", "offline"),
                HF_HUB_OFFLINE="1",
                OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1",
                RATE_LIMIT_REQUESTS_PER_MINUTE="0",
                SHUTDOWN_DRAIN_SECONDS="20",
            )
            stack.start(pod, [sys.executable, "-m", "app", "serve"], env)
        for pod, port in SERVER_PORTS.items():
            wait_for(
                f"{pod} /readyz",
                lambda port=port, pod=pod: (
                    stack.alive(pod) and http_get(f"http://{HOST}:{port}/readyz")[0] == 200
                ),
                300,
            )
        ports = list(SERVER_PORTS.values())
        log(f"2 servers ready in {time.monotonic() - t0:.1f}s on ports {ports}")

        direct = scrape_queue_depth(SERVER_PORTS[pods[0]])
        if not direct:
            failures.append(f"{METRIC} is not on /metrics of the server")
            log(f"FAIL: {METRIC} not exposed by /metrics; the query cannot work")
            return 1
        log(f"/metrics exposes {METRIC} with queues {sorted(direct)}")

        stack.start(
            "nginx", [nginx, "-p", str(work), "-c", str(nginx_conf(work)), "-g", "daemon off;"]
        )
        stack.start(
            "prometheus",
            [
                prometheus,
                f"--config.file={prometheus_conf(work)}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address={HOST}:{PROM_PORT}",
                "--log.level=warn",
            ],
        )
        wait_for("nginx", lambda: http_get(f"http://{HOST}:{NGINX_PORT}/readyz")[0] == 200, 20)
        wait_for("prometheus", lambda: http_get(f"http://{HOST}:{PROM_PORT}/-/ready")[0] == 200, 30)
        query = adapter_query(pods)
        wait_for("first scrape of both pods", lambda: len(prom_query(query)) == 2, 30)
        log(f"prometheus ready; adapter query:\n    {query}")
        log(f"keda query:\n    {keda_query()}")
        log(f"idle: {prom_query(query)}")

        results: Counter[str] = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + LOAD_SECONDS
        threads = [
            threading.Thread(target=run_load, args=(stop_at, results, lock), daemon=True)
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        log(
            f"load: {CLIENTS} clients x {SENTENCES} sentences through nginx for {LOAD_SECONDS:.0f}s"
        )
        peaks = dict.fromkeys(pods, 0.0)
        header = f"{'t':>5}  " + "  ".join(f"{p[-1]}:prom {p[-1]}:/metrics" for p in pods)
        print(f"{header}  avg/pod  HPA desired (target {TARGET:g}, 2 pods)  keda total", flush=True)
        start = time.monotonic()
        while any(t.is_alive() for t in threads) and time.monotonic() < stop_at + 60:
            time.sleep(2)
            per_pod = prom_query(query)
            direct_now = {
                p: sum(scrape_queue_depth(port).values()) for p, port in SERVER_PORTS.items()
            }
            keda = prom_query(keda_query()).get("total", 0.0)
            for pod in pods:
                peaks[pod] = max(peaks[pod], per_pod.get(pod, 0.0))
            avg = sum(per_pod.values()) / max(len(per_pod), 1)
            desired = math.ceil(len(pods) * avg / TARGET) if avg else 0
            cells = "  ".join(
                f"{per_pod.get(p, float('nan')):6.0f} {direct_now[p]:10.0f}" for p in pods
            )
            elapsed = time.monotonic() - start
            print(f"{elapsed:5.0f}  {cells}  {avg:7.1f}  {desired:>5}  {keda:>28.0f}", flush=True)
        for thread in threads:
            thread.join(timeout=5)
        log(f"responses: {dict(results)}")

        wait_for("queues to empty", lambda: all(v == 0 for v in prom_query(query).values()), 30)
        log(f"after load: {prom_query(query)}")
        log(f"peak queue depth per pod seen through the adapter query: {peaks}")
        for pod in pods:
            if peaks[pod] <= 0:
                failures.append(f"{pod}: the query never showed a waiting request")
        if set(results) - {"200"}:
            failures.append(f"non-200 responses: {dict(results)}")
    finally:
        codes = stack.stop()
        log(f"stopped (exit codes {codes}); logs in {work}")
        bad_exits = {name: code for name, code in codes.items() if code != 0}
        if bad_exits:
            log(f"WARN: not a clean exit 0 after SIGTERM: {bad_exits}")
    if failures:
        for failure in failures:
            log(f"FAIL: {failure}")
        return 1
    log("OK: the HPA's query returns each pod's queue depth under load, and 0 when idle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
