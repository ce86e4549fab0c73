import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** polypack's own version, read once from its package.json. */
export function polypackVersion(): string {
  if (cached) return cached;
  cached = "unknown";
  let dir = dirname(fileURLToPath(import.meta.url));
  // The compiled module sits a few folders below package.json, at a depth that depends on the build.
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (!existsSync(candidate)) continue;
    const json = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown; version?: unknown };
    if (json.name === "polypack" && typeof json.version === "string") {
      cached = json.version;
      break;
    }
  }
  return cached;
}
