import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { polypack, type Outcome } from "../support/cli.js";

export { polypack, type Outcome };

const HERE = dirname(fileURLToPath(import.meta.url));
/** The checkout's examples/hello-multiarch, found by walking up from this file. */
export function exampleDir(): string {
  let dir = HERE;
  while (!existsSync(join(dir, "examples", "hello-multiarch", "buildpack.toml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples/hello-multiarch not found above the test");
    dir = parent;
  }
  return join(dir, "examples", "hello-multiarch");
}

/** A fresh copy of the example at `dir`, without binaries a previous build left. */
export async function copyExample(dir: string): Promise<string> {
  const source = exampleDir();
  await cp(source, dir, { recursive: true, filter: (path) => path !== join(source, "linux") });
  return dir;
}

/** Runs polypack and fails with its output when it does not exit 0. */
export async function polypackOk(
  args: readonly string[],
  options: Parameters<typeof polypack>[1] = {},
): Promise<Outcome> {
  const outcome = await polypack(args, options);
  if (outcome.code !== 0) {
    throw new Error(
      `polypack ${args.join(" ")} exited ${outcome.code}\n${outcome.stderr}\n${outcome.stdout}`,
    );
  }
  return outcome;
}

/** sha256:<hex> of a file. */
export async function fileDigest(path: string): Promise<string> {
  return `sha256:${createHash("sha256")
    .update(await readFile(path))
    .digest("hex")}`;
}

/** A JSON file, parsed. */
export async function readJSON<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}
