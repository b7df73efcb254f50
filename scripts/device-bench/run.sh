#!/usr/bin/env bash
# Runs ON the GPU device machine (prepare.sh says how to call it): unpacks .device-carry/,
# installs the Vulkan loader, records the GPU and the WebGPU adapter, then times
# `gradcraft bench speed --json` on webgpu and, for a ratio on the same machine, on wasm.
# Everything lands in $OUT (at most 8 files come back): run.log, adapter.json,
# speed-webgpu.json/.log, speed-wasm.json/.log, summary.md.
# Ends inside about 8.5 minutes: each part has its own timeout (seconds, overridable):
#   WEBGPU_TIMEOUT=270 WASM_TIMEOUT=150 STEPS=20 WARMUP=3
# Also runs on a machine without a GPU (to test it): the webgpu run then says why it cannot.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/scripts/device-bench"
carry="$root/.device-carry"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
started=$(date +%s)
say() { echo "[device-bench +$(($(date +%s) - started))s] $*"; }

main() {
for f in node.xz app.tar.xz; do
  [ -s "$carry/$f" ] || {
    say "FAILED: $carry/$f is missing: run scripts/device-bench/prepare.sh and carry .device-carry"
    exit 1
  }
done

work="$(mktemp -d /tmp/device-bench.XXXXXX)"
# xz may be absent there; python3 always is (with lzma).
if command -v xz >/dev/null; then
  xz -dc "$carry/node.xz" >"$work/node" && tar -C "$work" -xJf "$carry/app.tar.xz"
else
  python3 -c 'import lzma,shutil,sys,tarfile
shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2] + "/node", "wb"))
tarfile.open(sys.argv[3]).extractall(sys.argv[2])' "$carry/node.xz" "$work" "$carry/app.tar.xz"
fi
chmod +x "$work/node"
node="$work/node"
say "node $("$node" --version) ($(cat "$carry/node.version" 2>/dev/null)), app at commit $(cat "$work/COMMIT" 2>/dev/null)"

say "machine: $(uname -srm); $(nproc) cores; CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
if command -v nvidia-smi >/dev/null; then
  timeout 30 nvidia-smi
  gpu_line="$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
else
  say "no nvidia-smi here: no NVIDIA GPU (or no driver) on this machine"
  gpu_line=""
fi

# Vulkan loader for Dawn. On the device (root, NVIDIA driver present) the device README's recipe:
# unpack the loader .debs into / and ldconfig. Anywhere else, into a private folder only, so a
# test run never changes the machine it runs on.
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  say "a Vulkan loader is installed already"
elif ls "$carry"/gl/*.deb >/dev/null 2>&1; then
  if [ -n "$gpu_line" ] && [ "$(id -u)" = 0 ]; then
    for f in "$carry"/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    say "Vulkan/EGL loaders unpacked into /"
  else
    for f in "$carry"/gl/*.deb; do dpkg -x "$f" "$work/gl"; done
    export LD_LIBRARY_PATH="$work/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "Vulkan/EGL loaders unpacked into $work/gl (private: no NVIDIA GPU here)"
  fi
else
  say "no Vulkan loader and no loader .debs in $carry/gl: webgpu will find no adapter"
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES="$nvidia_icd" VK_ICD_FILENAMES="$nvidia_icd"
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  say "Vulkan driver: $nvidia_icd"
fi

say "WebGPU adapters (Dawn):"
timeout -k 5 60 "$node" "$here/adapter.mjs" "$work" >"$OUT/adapter.json"
cat "$OUT/adapter.json"
if grep -q '"hardwareAdapter": true' "$OUT/adapter.json"; then
  say "a hardware WebGPU adapter is present"
else
  say "NO HARDWARE WEBGPU ADAPTER on this machine: the webgpu benchmark cannot run here"
fi

bench() { # backend, timeout
  say "bench speed --backend $1 (timeout $2 s)"
  timeout -k 10 "$2" "$node" ${preload:+--import "$preload"} "$work/dist/cli.js" bench speed --json --backend "$1" \
    --steps "${STEPS:-20}" --warmup "${WARMUP:-3}" >"$OUT/speed-$1.json" 2>"$OUT/speed-$1.log"
  local rc=$?
  cat "$OUT/speed-$1.log"
  case $rc in
  0) say "$1: done" ;;
  124 | 137) echo "timed out after $2 s" >>"$OUT/speed-$1.log" && say "$1: TIMED OUT after $2 s (per-case lines above are what it measured)" ;;
  *) say "$1: FAILED (exit $rc)$(grep -q 'no hardware adapter' "$OUT/speed-$1.log" && echo ': no hardware WebGPU adapter')" ;;
  esac
}
preload=""
if grep -q '"workaround": "' "$OUT/adapter.json"; then
  export DEVICE_BENCH_APP="$work"
  preload="$here/flatten-features.mjs"
  say "WORKAROUND: tfjs's device request needed its requiredFeatures flattened; the webgpu run uses $preload (src/trainer/backend.ts needs the same fix)"
fi
bench webgpu "${WEBGPU_TIMEOUT:-270}"
preload=""
bench wasm "${WASM_TIMEOUT:-150}"

"$node" "$here/summarize.mjs" "$OUT" "$(date -u +%Y-%m-%d)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores" "$gpu_line"
rm -rf "$work"
say "done; files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
}
# One pipe (not exec > >(tee)) so the log is complete when the command returns.
main 2>&1 | tee "$OUT/run.log"
