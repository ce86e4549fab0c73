#!/usr/bin/env bash
# The whole test suite: system programs, type check and build, lint, format check, then every test
# (unit, property, integration against a real registry, end to end). `--quick` skips tests tagged slow
# for a fast local loop; `npm test` and CI always run everything.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi

bash scripts/install-system-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
rm -rf dist
npx tsc -p tsconfig.json
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
export POLYPACK_TEST_QUICK=$quick
# Tests get their own cache home, so they neither read nor fill the user's.
POLYPACK_CACHE_DIR=$(mktemp -d)
export POLYPACK_CACHE_DIR
# ... and their own local index store (manifest create keeps indexes there).
POLYPACK_HOME=$(mktemp -d)
export POLYPACK_HOME
trap 'rm -rf "$POLYPACK_CACHE_DIR" "$POLYPACK_HOME"' EXIT
node --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
