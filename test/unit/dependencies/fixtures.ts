// Builders for dependency tests: entries go through the real buildpack.toml parser, files are written
// to temporary directories, and the cache directory can be listed to prove nothing partial is left.
import { createHash } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { stringify } from "smol-toml";
import { parseDependencies, type Dependency } from "../../../src/buildpack/dependencies.js";

/** A `[[metadata.dependencies]]` entry as written in buildpack.toml. */
export type DependencyFields = Record<string, string | string[]>;

/** Parses entries the way polypack reads buildpack.toml. */
export function dependencies(...entries: DependencyFields[]): Dependency[] {
  return parseDependencies(stringify({ metadata: { dependencies: entries } }));
}

/** One parsed entry, with `id` and `version` defaulted. */
export function dependency(fields: DependencyFields): Dependency {
  const [parsed] = dependencies({ id: "example-dep", version: "1.2.3", ...fields });
  if (parsed === undefined) throw new Error("no dependency parsed");
  return parsed;
}

/** `sha256:<hex>` or `sha512:<hex>` of the content. */
export function checksumOf(data: Uint8Array | string, algorithm: "sha256" | "sha512" = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

/** Writes files (paths relative to `dir`), creating folders. */
export async function writeFiles(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
}

/** Every file below `dir`, hidden ones included, as sorted relative paths; [] when `dir` is absent. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}
