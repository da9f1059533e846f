#!/usr/bin/env bash
# Build Dockerfile.cpu with podman on a machine with no registry access, run the
# image once and check it: /readyz, one embedding, one rerank (tiny models mounted
# as a volume), the HEALTHCHECK, the non-root user, and a clean SIGTERM exit.
#
#   bash e2e/image_smoke.sh             # as root; prints a summary at the end
#
# No registry is reachable here, so the base image is made locally: debootstrap a
# Debian bookworm rootfs with python3 + python3-venv and `podman import` it, then
# build with --build-arg BASE_IMAGE=<that>. pip reaches PyPI through the host
# network with the host CA bundle; the CPU torch wheel comes from /opt/wheels when
# that folder has it (PyTorch's own index is not reachable here).
#
# Environment: IMAGE, BASE_IMAGE, PORT (127.0.0.1 only), WORK (scratch folder),
# KEEP=1 keeps the container and volume for a look afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-localhost/smart-embedder:0.1.0-cpu}
BASE_IMAGE=${BASE_IMAGE:-localhost/smart-embedder-base:bookworm}
PORT=${PORT:-18080}
WORK=${WORK:-/var/tmp/smart-embedder-image}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
NAME=smart-embedder-smoke
VOLUME=smart-embedder-smoke-models
READY_TIMEOUT=${READY_TIMEOUT:-300}
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3

say() { printf '\n== %s\n' "$*"; }
# Podman has no systemd here to run HEALTHCHECK timers; it says so on every run.
# The check itself is run by hand below (`podman healthcheck run`).
podman() { command podman "$@" 2> >(grep -v 'systemd connection' >&2); }
die() { printf 'image_smoke: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "run as root (podman, debootstrap)"
for tool in podman debootstrap curl; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y podman buildah runc debootstrap curl"
done
[ -f "$ROOT/README.md" ] || die "README.md is missing at the repo root (pyproject's readme, copied into the image)"

mkdir -p "$WORK"
# Debian's podman with runc and sane ulimits (SPEC §10), without touching /etc.
export CONTAINERS_CONF="$WORK/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF

cleanup() {
  if [ "${KEEP:-0}" != 1 ]; then
    podman rm -f "$NAME" >/dev/null 2>&1 || true
    podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# --- 1. base image --------------------------------------------------------
t0=$(now)
if podman image exists "$BASE_IMAGE"; then
  say "base image $BASE_IMAGE exists"
  base_note="reused"
else
  say "making base image $BASE_IMAGE (debootstrap bookworm + python3)"
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || die "debootstrap failed, see $WORK/debootstrap.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  base_note="made"
fi
t_base=$(secs "$t0" "$(now)")
podman run --rm "$BASE_IMAGE" python3 --version

# --- 2. build -------------------------------------------------------------
say "building $IMAGE from Dockerfile.cpu"
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
mounts=()
torch_whl=$(find /opt/wheels -maxdepth 1 -name 'torch-*+cpu-*.whl' -printf '%f\n' 2>/dev/null | sort | tail -n1 || true)
if [ -n "$torch_whl" ]; then
  torch_version=$(echo "$torch_whl" | cut -d- -f2)
  build_args+=(--build-arg TORCH_INDEX_URL= --build-arg PIP_FIND_LINKS=/wheels
               --build-arg "TORCH_VERSION=$torch_version")
  mounts+=(-v /opt/wheels:/wheels:ro)
  echo "CPU torch from /opt/wheels: $torch_whl"
fi
ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$ca" ]; then
  build_args+=(--build-arg PIP_CERT=/run/host-ca.crt)
  mounts+=(-v "$ca:/run/host-ca.crt:ro")
fi
t0=$(now)
podman build --format docker --network host --layers \
  -f "$ROOT/Dockerfile.cpu" -t "$IMAGE" "${build_args[@]}" "${mounts[@]}" "$ROOT" \
  >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; die "build failed, see $WORK/build.log"; }
t_build=$(secs "$t0" "$(now)")
size=$(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{ printf "%.0f MB", $1 / 1e6 }')
user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
health=$(podman image inspect "$IMAGE" --format '{{json .Config.Healthcheck.Test}}')
echo "built in ${t_build}s, $size, user $user, healthcheck $health"
[ "${user%%:*}" = 10001 ] || die "image user is '$user', expected 10001"
echo "$health" | grep -q /livez || die "no HEALTHCHECK on /livez"
podman run --rm --entrypoint python "$IMAGE" -c \
  "import torch; assert not torch.version.cuda; print('torch', torch.__version__, 'CPU only')"

# --- 3. tiny models for the default (bge-m3 + reranker) code path ----------
models="$WORK/models"
if [ ! -f "$models/bge-m3/sparse_linear.pt" ]; then
  say "building tiny bge-m3 + bge-reranker models in $models"
  (cd "$ROOT" && "$PY" -m app.testing.tiny_models "$models") >"$WORK/tiny.log" 2>&1 \
    || { tail -n 20 "$WORK/tiny.log"; die "tiny model build failed (needs the test extra)"; }
fi
chmod -R a+rX "$models"

# --- 4. run like the chart does: read-only root, non-root, /models volume --
run_checks() {  # $1 = label, rest = extra podman run args
  local label=$1; shift
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  say "run ($label)"
  local t0; t0=$(now)
  podman run -d --name "$NAME" --network host --read-only --tmpfs /tmp:rw,size=512m \
    --health-interval=disable \
    -v "$VOLUME:/models" -e HOST=127.0.0.1 -e "PORT=$PORT" -e SHUTDOWN_DRAIN_SECONDS=10 \
    "$@" "$IMAGE" >/dev/null
  local code="" deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
    [ "$code" = 200 ] && break
    if [ "$(podman inspect "$NAME" --format '{{.State.Running}}')" != true ]; then
      podman logs "$NAME" | tail -n 30; die "container exited before ready"
    fi
    sleep 1
  done
  [ "$code" = 200 ] || { podman logs "$NAME" | tail -n 30; die "/readyz never answered 200"; }
  local t_ready; t_ready=$(secs "$t0" "$(now)")
  echo "/readyz 200 after ${t_ready}s"
  echo "uid in container: $(podman exec "$NAME" id -u)"
  podman exec "$NAME" sh -c 'touch /should-fail 2>/dev/null && echo "root fs WRITABLE" || echo "root fs read-only"'
  local body
  body=$(curl -sf "http://127.0.0.1:$PORT/embeddings/" -H 'Content-Type: application/json' \
    -d '{"sentences": ["a container answered", "second sentence"], "return_colbert": false}')
  echo "$body" | "$PY" -c '
import json, sys
out = json.load(sys.stdin)
emb = out["data"][0]["embeddings"]
print("embedding: %d items, dense dim %d, sparse terms %d, model %s" % (
    len(out["data"]), len(emb["dense"]), len(emb.get("sparse") or {}), out["model_name"]))'
  if [ "$label" = "tiny bge-m3 + reranker" ]; then
    curl -sf "http://127.0.0.1:$PORT/rerank" -H 'Content-Type: application/json' \
      -d '{"query": "q", "passages": ["first", "second", "third"]}' | "$PY" -c '
import json, sys
out = json.load(sys.stdin)
print("rerank: %d results, order %s" % (len(out["results"]), [r["index"] for r in out["results"]]))'
  fi
  podman healthcheck run "$NAME" || die "HEALTHCHECK failed"
  echo "HEALTHCHECK healthy"
  local t_stop; t_stop=$(now)
  podman stop -t 30 "$NAME" >/dev/null
  local exit_code; exit_code=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
  echo "SIGTERM -> exit $exit_code in $(secs "$t_stop" "$(now)")s"
  [ "$exit_code" = 0 ] || { podman logs "$NAME" | tail -n 20; die "exit code $exit_code after SIGTERM"; }
  READY_TIMES+=("$label ${t_ready}s")
}

READY_TIMES=()

run_checks "offline preset" -e PRESET=offline
run_checks "tiny bge-m3 + reranker" -v "$models:/opt/models:ro" -e HF_HUB_OFFLINE=1 \
  -e BGE_M3_MODEL=/opt/models/bge-m3 -e RERANKER_MODEL=/opt/models/bge-reranker

say "summary"
echo "base image:  $BASE_IMAGE ($base_note, ${t_base}s): Debian bookworm minbase + python3 $(podman run --rm "$BASE_IMAGE" python3 -c 'import platform; print(platform.python_version())')"
echo "image:       $IMAGE, $size, built in ${t_build}s"
joined=$(printf '%s; ' "${READY_TIMES[@]}")
echo "ready after: ${joined%; }"
