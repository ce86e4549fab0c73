import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// This module runs from test/support or from dist/test/support; both have the repository's
// test/fixtures at a known distance, and nothing outside the checkout is ever read.
const FIXTURE_DIRS = [
  fileURLToPath(new URL("../fixtures/", import.meta.url)),
  fileURLToPath(new URL("../../../test/fixtures/", import.meta.url)),
];

/** A file of the repository's vendored fixtures (test/fixtures, see SOURCES.md there). */
export function fixture(path: string): string {
  for (const dir of FIXTURE_DIRS) {
    const candidate = join(dir, path);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`fixture ${path} is not in test/fixtures (looked in ${FIXTURE_DIRS.join(", ")})`);
}
