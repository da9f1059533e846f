#!/usr/bin/env bash
# Install Prometheus (prometheus-operator via kube-prometheus-stack, Prometheus only)
# and prometheus-adapter with e2e/prometheus-adapter-values.yaml into a cluster, so
# test_kind.py::test_hpa_reads_queue_depth_metric can run. Needs the helm CLI and
# internet access to the prometheus-community chart repository.
#
#   bash e2e/install_monitoring.sh            # current kubectl context
#   E2E_SERVICEMONITOR_LABELS='{}' pytest e2e/test_kind.py
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v helm >/dev/null || { echo "helm CLI missing" >&2; exit 1; }
helm repo add prometheus-community https://prometheus-community.github.io/helm-charts >/dev/null
helm repo update prometheus-community >/dev/null
helm upgrade --install kps prometheus-community/kube-prometheus-stack \
  --namespace monitoring --create-namespace --wait --timeout 10m \
  --set grafana.enabled=false \
  --set alertmanager.enabled=false \
  --set nodeExporter.enabled=false \
  --set kubeStateMetrics.enabled=false \
  --set prometheus.prometheusSpec.scrapeInterval=5s \
  --set prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues=false \
  --set prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues=false
helm upgrade --install prometheus-adapter prometheus-community/prometheus-adapter \
  --namespace monitoring --wait --timeout 5m \
  -f "$here/prometheus-adapter-values.yaml"
kubectl get apiservice v1beta1.custom.metrics.k8s.io
