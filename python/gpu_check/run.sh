#!/usr/bin/env bash
# The Python package's GPU check, one command ON a machine with CUDA and PyTorch (the GPU device
# machine: `bash python/gpu_check/run.sh`, from the repository root). Needs no network and no Node.
#  1. the package's pytest suite with its exactness tests on CUDA (GRADCRAFT_TEST_DEVICE=cuda),
#     which also checks this PyTorch version (the CPU suite runs on Debian's 1.13);
#  2. python/gpu_check/test_cuda.py: one copy from the device per step, nothing else synchronising;
#  3. python/gpu_check/bench.py: plain EW vs the Balancer (EW, GradCraft) step times on the GPU.
# Output and bench.json in $OUT (default: a new temporary folder). PYTHON overrides python3.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
py="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1 PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
cd "$root"
exec > >(tee "$OUT/gpu-check.log") 2>&1
status=0
echo "== machine: $(uname -srm), $(nproc) cores"
nvidia-smi -L 2>&1 || echo "nvidia-smi: not available"
"$py" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
echo "== package tests, exactness on CUDA"
GRADCRAFT_TEST_DEVICE=cuda "$py" -m pytest -q -p no:cacheprovider python/tests || status=1
echo "== GPU-only tests"
GRADCRAFT_TEST_DEVICE=cuda "$py" -m pytest -q -p no:cacheprovider python/gpu_check || status=1
echo "== bench"
timeout 240 "$py" python/gpu_check/bench.py "$OUT" || status=1
echo "== gpu check: $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
