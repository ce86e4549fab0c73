import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A file of the shared reference fixtures (`../shared/fixtures` beside the checkout, wherever the
 * checkout is), or of `$POLYPACK_FIXTURES` when that is set.
 */
export function sharedFixture(path: string): string {
  const override = process.env["POLYPACK_FIXTURES"];
  if (override && existsSync(join(override, path))) return join(override, path);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [
      join(dir, "test", "fixtures", path),
      join(dir, "..", "shared", "fixtures", path),
    ]) {
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`fixture ${path} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
