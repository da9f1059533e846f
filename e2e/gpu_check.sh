#!/usr/bin/env bash
# The GPU check, for the day a device is lent (docs: BENCHMARKS.md "GPU"). One run, under
# 8 minutes on one GPU (each step has its own timeout: 240 s of tests, 100 s per benchmark):
#   1. the device: name, compute capability, torch and CUDA, the dtype each model kind gets;
#   2. the gpu-marked tests (tests/gpu, tests/ops/test_gpu_server.py): fp16 parity against
#      fp32 on the CPU for bge-m3's three heads and the reranker, the dtype choice, pinned
#      transfers, the memory probe and measured budgets, a real oversize batch split, a real
#      device-side assert classified sticky, a server on cuda;
#   3. the benchmark on the device: tiny bge-m3 (embed_full) and MiniLM (--preset offline,
#      embed_dense), with raw forward passes beside them;
#   4. a markdown block ready for BENCHMARKS.md (also written to $OUT/gpu_check.md).
#
#   bash e2e/gpu_check.sh          # on a GPU machine (exits 2 if no CUDA device is visible)
#   bash e2e/gpu_check.sh --cpu    # the CPU side of the same steps, as CI runs it: the
#                                  # CPU-testable tests, the gpu tests skipping cleanly, and
#                                  # a short benchmark on the CPU
#
# Needs the test extra (tiny models, MiniLM's PyPI package, aiohttp). OUT (default: a temp
# dir) receives every log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

mode=gpu
if [[ "${1:-}" == "--cpu" ]]; then mode=cpu; fi
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
py=python
if ! command -v "$py" >/dev/null; then py=python3; fi

if [[ $mode == gpu ]]; then
    if ! "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        echo "gpu_check: no CUDA device is visible; run with --cpu for the CPU side" >&2
        exit 2
    fi
    device=cuda
    requests=400
    bench_timeout=100
else
    # CI's shared cores: fewer requests, and no 8-minute bound to keep
    device=cpu
    requests=24
    bench_timeout=300
fi

step() { echo "== $*" >&2; }

step "device"
"$py" - >"$OUT/device.txt" <<'PY'
import torch

from app.models.precision import choose_dtype

if torch.cuda.is_available():
    index = torch.cuda.current_device()
    capability = torch.cuda.get_device_capability(index)
    name = torch.cuda.get_device_name(index)
    device, where = "cuda", f"{name}, compute capability {capability[0]}.{capability[1]}"
else:
    capability, device, where = None, "cpu", "CPU (no device lent)"
kinds = ("bge-m3", "cross-encoder", "sentence-transformers", "qwen3-embedding")
dtypes = ", ".join(f"{k} {choose_dtype('auto', device, capability, k)}" for k in kinds)
print(f"device: {where}; torch {torch.__version__}, CUDA {torch.version.cuda}")
print(f"dtype auto: {dtypes}")
PY
cat "$OUT/device.txt" >&2

step "tests"
tests_status=0
if [[ $mode == gpu ]]; then
    timeout 240 "$py" -m pytest -m gpu tests/gpu tests/ops/test_gpu_server.py -q -n 0 \
        -p no:cacheprovider >"$OUT/tests.txt" 2>&1 || tests_status=$?
else
    # the CPU-testable parts of the same branches, then the gpu tests, which must skip; in one
    # process (-n 0): a second worker would only import torch again for a few seconds of tests
    timeout 240 "$py" -m pytest tests/unit/test_precision.py tests/unit/test_device_errors.py \
        tests/gpu tests/ops/test_gpu_server.py -q -n 0 -p no:cacheprovider -rs \
        >"$OUT/tests.txt" 2>&1 || tests_status=$?
fi
tests_line=$(grep -E "[0-9]+ (passed|failed|skipped|error)" "$OUT/tests.txt" | tail -1 || true)
echo "$tests_line" >&2

step "benchmark"
bench_status=0
timeout "$bench_timeout" "$py" -m app.bench --tiny --device "$device" --scenario embed_full \
    --concurrency 16 --requests "$requests" --batch-size 8 --warmup 8 --raw \
    >"$OUT/bench_bge_m3.txt" 2>"$OUT/bench_bge_m3.log" || bench_status=$?
timeout "$bench_timeout" "$py" -m app.bench --preset offline --device "$device" --scenario embed_dense \
    --concurrency 16 --requests "$requests" --batch-size 8 --warmup 8 --raw \
    >"$OUT/bench_minilm.txt" 2>"$OUT/bench_minilm.log" || bench_status=$?

{
    echo "### GPU check, $(date -u +%Y-%m-%d) ($mode mode)"
    echo
    echo "$(head -1 "$OUT/device.txt")  "
    echo "$(sed -n 2p "$OUT/device.txt")"
    echo
    if [[ $mode == gpu ]]; then label="gpu-marked tests"; else label="CPU-side tests, gpu tests skipping"; fi
    echo "$label: ${tests_line:-no result} (exit $tests_status)"
    echo
    echo '```'
    cat "$OUT/bench_bge_m3.txt"
    echo
    cat "$OUT/bench_minilm.txt"
    echo '```'
} | tee "$OUT/gpu_check.md"

if [[ $tests_status -ne 0 || $bench_status -ne 0 ]]; then
    echo "gpu_check: tests exit $tests_status, benchmark exit $bench_status; logs in $OUT" >&2
    exit 1
fi
