#!/usr/bin/env bash
# Builds .device-carry/, everything `gradcraft bench speed` needs on the GPU device machine
# (x86-64, no network, no Node there), then prints the one device `run` call to make.
#   scripts/device-bench/prepare.sh            build dist/ first (npm run build)
#   SKIP_BUILD=1 scripts/device-bench/prepare.sh   use the dist/ already there
# Environment: NODE_BIN (default: the node on PATH; must be x64 Linux, Node >= 20).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
carry=.device-carry
limit_mib=60
mkdir -p "$carry/gl"

# Never committed, never travelling as an untracked file: it goes only through `carry`.
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
grep -qx "/$carry/" "$exclude" 2>/dev/null || echo "/$carry/" >>"$exclude"

node_bin="${NODE_BIN:-$(command -v node)}"
node_info="$("$node_bin" -p 'process.platform + " " + process.arch + " " + process.version')"
case "$node_info" in
linux\ x64\ v2[0-9]*) ;;
*)
  echo "prepare: $node_bin is '$node_info'; the device needs a linux x64 Node >= 20 (set NODE_BIN)" >&2
  exit 1
  ;;
esac

# The bundle is built from the working tree: say so when it differs from the commit recorded.
dirty="$(git status --porcelain -- src package.json | head -5)"
[ -z "$dirty" ] || printf 'prepare: warning: uncommitted changes go into dist/:\n%s\n' "$dirty" >&2
if [ "${SKIP_BUILD:-0}" != 1 ]; then npm run build --silent; fi
for f in dist/cli.js dist/trainer-worker.js dist/tfjs-backend-wasm-simd.wasm node_modules/webgpu/dist/linux-x64/dawn.node \
  node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js; do
  [ -f "$f" ] || {
    echo "prepare: $f is missing (npm install, then npm run build)" >&2
    exit 1
  }
done

# Node: the compressed binary is reused while it is newer than its source (xz of 95 MB is slow).
if [ ! -s "$carry/node.xz" ] || [ "$node_bin" -nt "$carry/node.xz" ]; then
  echo "prepare: compressing $node_bin ($node_info)..."
  xz -T2 -6 -c "$node_bin" >"$carry/node.xz.part"
  mv "$carry/node.xz.part" "$carry/node.xz"
fi
echo "$node_info" >"$carry/node.version"

# The app: the bundle and its worker-thread script, the wasm binaries, and what the bundle loads
# at run time from ../node_modules: webgpu (ESM, external to the bundle), tfjs-backend-webgpu
# (required only after navigator.gpu is set), the tfjs-core it requires and seedrandom, which
# tfjs-core requires on load. Only the linux-x64 Dawn binary goes.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist"
cp dist/cli.js dist/trainer-worker.js dist/*.wasm "$stage/dist/"
copy() { mkdir -p "$stage/$(dirname "$1")" && cp -r "$1" "$stage/$1"; }
copy node_modules/webgpu/package.json
copy node_modules/webgpu/index.js
copy node_modules/webgpu/dist/linux-x64
for pkg in tfjs-backend-webgpu:tf-backend-webgpu tfjs-core:tf-core; do
  copy "node_modules/@tensorflow/${pkg%%:*}/package.json"
  copy "node_modules/@tensorflow/${pkg%%:*}/dist/${pkg##*:}.node.js"
done
copy node_modules/seedrandom
git rev-parse HEAD >"$stage/COMMIT"
app_new="$carry/app.tar.xz.part"
tar -C "$stage" -cf - . | xz -T2 -6 >"$app_new"
mv "$app_new" "$carry/app.tar.xz"

# The Vulkan/EGL loaders (the device image has none): device README's recipe.
if ! ls "$carry"/gl/libvulkan1_*.deb >/dev/null 2>&1; then
  lists="$(mktemp -d)"
  mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd "$carry/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  rm -rf "$lists"
fi

# Sizes: the carry and the working tree travel together, 64 MiB in all.
carry_bytes="$(du -sb "$carry" | cut -f1)"
tree_bytes="$( (git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null || true) | awk '{s+=$1} END {print s+0}')"
total=$((carry_bytes + tree_bytes))
printf 'prepare: %s %s MiB (node %s, app %s, loaders %s); working tree %s MiB; together %s MiB (limit %s)\n' \
  "$carry" "$((carry_bytes / 1048576))" \
  "$(du -h "$carry/node.xz" | cut -f1)" "$(du -h "$carry/app.tar.xz" | cut -f1)" "$(du -sh "$carry/gl" | cut -f1)" \
  "$((tree_bytes / 1048576))" "$((total / 1048576))" "$limit_mib"
if [ "$total" -ge $((limit_mib * 1048576)) ]; then
  echo "prepare: too large for the device tool (64 MiB with the working tree)" >&2
  exit 1
fi

cmd='bash scripts/device-bench/run.sh'
cat <<EOF

Device call (one, at most about 9 minutes of the 15 with the start; give the machine back afterwards):
  run(command: "$cmd", carry: ["$carry"], timeout_s: 560)
Files that come back: run.log, adapter.json, speed-webgpu.json/.log, speed-wasm.json/.log,
summary.md (a Markdown table for docs/benchmarks.md, "On a GPU machine").
EOF
