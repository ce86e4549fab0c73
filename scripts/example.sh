#!/usr/bin/env bash
# The main job on the bundled example: build polypack, package examples/hello-multiarch for
# linux/amd64 and linux/arm64 into one multi-arch OCI layout at out/hello-multiarch (no Docker, no
# registry), then show the index. Go cross-compiles the example's binaries when it is installed;
# otherwise the example's pre-package step installs its shell-script variant.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
if ! command -v go >/dev/null 2>&1; then
  echo "note: Go is not installed; the example's shell-script bin/detect and bin/build are packaged instead" >&2
fi

polypack=(node dist/src/cli/bin.js)
rm -rf out/hello-multiarch
"${polypack[@]}" buildpack package hello-multiarch:0.1.0 \
  --path examples/hello-multiarch \
  --target linux/amd64 --target linux/arm64 \
  --format layout --output out/hello-multiarch
echo
"${polypack[@]}" manifest inspect oci:out/hello-multiarch:0.1.0
