import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tempDir } from "./tmp.js";

const execFileAsync = promisify(execFile);

// The oracles' sources lie in test/support/<name>/main.go; this module runs from test/support or
// dist/test/support.
const SOURCE_DIRS = [
  fileURLToPath(new URL("./", import.meta.url)),
  fileURLToPath(new URL("../../../test/support/", import.meta.url)),
];

const built = new Map<string, Promise<string>>();

/** Compiles a Go oracle (test/support/<name>/main.go, standard library only) once per test file. */
function oracle(name: "go-tar" | "go-labels"): Promise<string> {
  let binary = built.get(name);
  if (binary === undefined) {
    binary = (async () => {
      const source = SOURCE_DIRS.map((dir) => join(dir, name, "main.go")).find((file) => existsSync(file));
      if (source === undefined) throw new Error(`${name}/main.go not found in ${SOURCE_DIRS.join(", ")}`);
      const output = join(await tempDir("polypack-go-oracle-"), name);
      await execFileAsync("go", ["build", "-o", output, source], {
        env: { ...process.env, GOCACHE: process.env["GOCACHE"] ?? join(tmpdir(), "polypack-go-build-cache") },
      });
      return output;
    })();
    built.set(name, binary);
  }
  return binary;
}

async function runOracle(
  args: readonly string[],
  input?: string,
  name: "go-tar" | "go-labels" = "go-tar",
): Promise<Buffer> {
  const binary = await oracle(name);
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      args,
      { encoding: "buffer", maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${name} ${args.join(" ")}: ${stderr.toString()}`, { cause: error }));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? "");
  });
}

/** One header for the oracle: what Go's tar.Header gets (root-owned, empty user and group names). */
export interface GoTarEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "hardlink";
  mode: number;
  size: number;
  /** Seconds since 1970. */
  mtime: number;
  linkname?: string;
  /** A file's bytes; without them only the header is written. */
  content?: Uint8Array;
}

/**
 * The bytes Go's archive/tar writes for each entry with a header whose format Go chooses itself:
 * headers (and contents), no closing blocks.
 */
export function goTarHeaders(entries: readonly GoTarEntry[]): Promise<Buffer> {
  const json = entries.map(({ content, ...rest }) => ({
    ...rest,
    ...(content && content.length > 0 ? { content: Buffer.from(content).toString("base64") } : {}),
  }));
  return runOracle(["headers"], JSON.stringify(json));
}

/**
 * The uncompressed layer pack v0.40 writes for the buildpack folder `dir` (see go-tar/main.go):
 * its diffID is pack's. `parent` is `/cnb/buildpacks` or `/cnb/extensions`.
 */
export function packLayerTar(dir: string, parent: string, id: string, version: string): Promise<Buffer> {
  return runOracle(["pack-dir", dir, parent, id, version]);
}

/** A module for the labels oracle: its descriptor (the parsed TOML) and its layer's diffID. */
export interface GoLabelsModule {
  descriptor: unknown;
  diffID: string;
}

/**
 * The layers label and buildpackage metadata label pack v0.40 writes for a buildpack (or extension)
 * and the buildpacks included with it (see go-labels/main.go).
 */
export async function packLabels(
  kind: "buildpack" | "extension",
  top: GoLabelsModule,
  children: readonly GoLabelsModule[] = [],
): Promise<{ layers: string; metadata: string }> {
  const output = await runOracle([], JSON.stringify({ kind, ...top, children }), "go-labels");
  const [layers = "", metadata = ""] = output.toString("utf8").split("\n");
  return { layers, metadata };
}

/**
 * The uncompressed layer pack v0.40's `--flatten` writes from module layer tars (see go-tar/main.go,
 * pack-flatten): `modules` in layer order, each a module id and the file of its layer tar.
 */
export function packFlattenTar(modules: readonly { id: string; tar: string }[]): Promise<Buffer> {
  return runOracle(["pack-flatten", ...modules.map((m) => `${m.id}=${m.tar}`)]);
}
