#!/usr/bin/env bash
# Benchmarks polypack beside its peers (skopeo, tar | gzip | sha256sum) in the same run and prints a
# table and JSON (also written to bench-results/bench.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
[ -x /usr/bin/time ] || { apt-get install -y -qq time >/dev/null 2>&1 || { echo "bench needs GNU time (/usr/bin/time; Debian package time)" >&2; exit 1; }; }
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
exec node dist/bench/run.js "$@"
