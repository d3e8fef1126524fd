#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU (torch with CUDA; TensorRT optional). Under 8 minutes.
#
#   bash scripts/gpu_check.sh [OUT_DIR]        # PYTHON=... to use another interpreter than .venv/bin/python
#
# 1. tensorrt tests: test/test_tensorrt.py (fp32 and fp16 parity with torch and the fp32 export,
#    entity F1 on Twitter-2017 test, engine cache) when `tensorrt` imports; else says why not.
# 2. latency: tensorrt fp32 and fp16 (when it imports) and torch on cuda, p50/p95 per utterance.
# 3. mlnet_bench: `mlnet_bench --backends torch` (on cuda where mlnet_bench has a --device option).
# 4. training: steps/s of the paper-sized model (a marked place, filled in by the training work).
# Ends with a summary table; every step's log is in OUT_DIR (default: a new temporary directory).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-.venv/bin/python}
[[ -x $PYTHON ]] || PYTHON=python3
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
export XDG_CACHE_HOME=$OUT/pytest/xdg_cache  # the tests' export and engines, reused by the later steps
DATA=$(cd .. && pwd)/shared/data/twitter2017/test.txt  # training.data.DEFAULT_DATA_DIR
ROWS=()

row() { ROWS+=("| $1 | $2 | $3 | $4 |"); }

run_step() {  # name, time limit in s, command...: runs it with its output in $OUT/<name>.log
  local name=$1 limit=$2 start=$SECONDS
  shift 2
  echo "== $name (at most ${limit} s)" >&2
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  STEP_SECONDS=$((SECONDS - start))
  if [[ $rc -eq 124 ]]; then STEP_STATUS="timed out"; elif [[ $rc -eq 0 ]]; then STEP_STATUS=ok; else STEP_STATUS="failed (rc $rc)"; fi
}

"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print(torch.cuda.get_device_name(0))" \
  >"$OUT/gpu.log" 2>&1 || { tail -1 "$OUT/gpu.log" >&2; echo "gpu_check: no usable CUDA device; nothing checked" >&2; exit 1; }
GPU=$(tail -1 "$OUT/gpu.log")
TENSORRT=$("$PYTHON" -c "import tensorrt; print(tensorrt.__version__)" 2>&1 | tail -1)
"$PYTHON" -c "import tensorrt" 2>/dev/null && HAVE_TENSORRT=1 || HAVE_TENSORRT=0
[[ -f $DATA ]] || echo "gpu_check: $DATA is missing: the F1 tests and the data-driven figures fail" >&2

# 1. TensorRT tests (engine builds: minutes).
if [[ $HAVE_TENSORRT == 1 ]]; then
  run_step tensorrt_tests 260 "$PYTHON" -m pytest -rs -s -p no:cacheprovider --basetemp="$OUT/pytest" test/test_tensorrt.py
  figures=$( (grep -oE "tensorrt fp(16|32): .*" "$OUT/tensorrt_tests.log"; tail -1 "$OUT/tensorrt_tests.log" | tr -d '=') | paste -sd ';' -)
  row "tensorrt tests" "$STEP_STATUS" "$STEP_SECONDS s" "${figures:-see tensorrt_tests.log}"
else
  row "tensorrt tests" "not run" "0 s" "tensorrt does not import: $TENSORRT"
fi

# 2. Latency of each backend on cuda (engines from step 1's cache; built here otherwise).
run_step latency 90 env HAVE_TENSORRT=$HAVE_TENSORRT DATA="$DATA" "$PYTHON" - <<'EOF'
import os, time
import numpy as np, skimage.data
from mlnet_ros.inference.backends import load_backend
from mlnet_ros.paths import default_model_dir
from training.data import read_conll

if os.path.exists(os.environ["DATA"]):
    texts = [" ".join(s.tokens) for s in read_conll(os.environ["DATA"])][:100]
else:
    texts = ["Obama met Merkel in Berlin", "Eileen Collins flew on the space shuttle Columbia for NASA"] * 50
photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
runs = [("torch cuda", "torch", {})]
if os.environ["HAVE_TENSORRT"] == "1":
    runs = [("tensorrt fp32", "tensorrt", {"fp16": False}), ("tensorrt fp16", "tensorrt", {"fp16": True})] + runs
for name, backend, options in runs:
    started = time.perf_counter()
    recognizer = load_backend(default_model_dir(), backend, "cuda", **options)
    load_s = time.perf_counter() - started
    for text in texts[:5]:
        recognizer.recognize(text, recognizer.encode_image(photos[0]))
    text_ms, image_ms = [], []
    for i, text in enumerate(texts):
        started = time.perf_counter()
        recognizer.recognize(text)
        text_ms.append((time.perf_counter() - started) * 1000)
        if i < 40:
            started = time.perf_counter()
            recognizer.recognize(text, recognizer.encode_image(photos[i % len(photos)]))
            image_ms.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    recognizer.recognize_batch(texts[:32])
    batch = 32 / (time.perf_counter() - started)
    print(f"latency {name}: text p50 {np.percentile(text_ms, 50):.1f} ms, p95 {np.percentile(text_ms, 95):.1f} ms; "
          f"image+text p50 {np.percentile(image_ms, 50):.1f} ms, p95 {np.percentile(image_ms, 95):.1f} ms; "
          f"batch 32 {batch:.0f} utt/s; load {load_s:.1f} s", flush=True)
EOF
row "latency (cuda)" "$STEP_STATUS" "$STEP_SECONDS s" "$(grep '^latency' "$OUT/latency.log" | sed 's/^latency //' | paste -sd ';' -)"

# 3. mlnet_bench, called as it is (its options are another piece of work).
BENCH=(-m mlnet_ros.cli.bench --backends torch --iterations 20 --no-append --json "$OUT/bench.json")
if "$PYTHON" -m mlnet_ros.cli.bench --help 2>/dev/null | grep -q -- "--device"; then
  BENCH+=(--device cuda); where=cuda
else
  where="cpu (mlnet_bench has no --device option yet)"
fi
run_step mlnet_bench 110 "$PYTHON" "${BENCH[@]}"
row "mlnet_bench torch" "$STEP_STATUS" "$STEP_SECONDS s" "on $where: $(grep -E '^\| torch' "$OUT/mlnet_bench.log" | head -1)"

# 4. TRAINING STEPS/S OF THE PAPER-SIZED MODEL -- placeholder for the training work: run a short
#    fp32 and bf16 forward/backward benchmark of the paper-sized MLNetModel here (keep it under a
#    minute) and add its figures with: row "training steps/s (paper size)" "$STEP_STATUS" "$STEP_SECONDS s" "..."
row "training steps/s (paper size)" "not run" "0 s" "placeholder: not written yet"

echo
echo "gpu_check on $GPU; tensorrt: $TENSORRT; logs in $OUT"
echo "| step | status | time | figures |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
