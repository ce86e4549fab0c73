#!/usr/bin/env bash
# Rewrites the table of docs/errors.md from the error catalogue (src/errors/catalogue.ts), then
# formats the page. Run it after adding, changing or removing a code; the unit test
# test/unit/errors/catalogue.test.ts fails while the two disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
node dist/test/support/errors-doc.js --write
npx prettier --write docs/errors.md >/dev/null
