// `polypack dependency add|update|coverage` as a user runs them: real archives holding real ELF
// programs for each architecture, served over HTTP from this process, and a copy of a real
// Paketo buildpack.toml edited in place. `patch` (an independent tool) applies the --dry-run diff.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { parseDependencies } from "../../src/buildpack/dependencies.js";
import { polypack } from "../support/cli.js";
import { fixture } from "../support/fixtures.js";
import { layerBytes } from "../support/layer-bytes.js";
import { standInProgram } from "../support/base-images.js";
import { tempDir } from "../support/tmp.js";

const run = promisify(execFile);

/** Served files by path, and how often each was asked for. */
const files = new Map<string, Buffer>();
const requests = new Map<string, number>();
let server: Server;
let base: string;

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** A tarball as upstream ships a toolchain: one top folder, the program under bin/ (gzip tar). */
async function toolchain(top: string, program: Buffer): Promise<Buffer> {
  const { blob } = await layerBytes([
    { type: "directory", path: top },
    { type: "directory", path: `${top}/bin` },
    { type: "file", path: `${top}/bin/${top}`, content: program, exactMode: 0o755 },
    { type: "file", path: `${top}/README`, content: Buffer.from("read me\n") },
  ]);
  return blob;
}

before(async () => {
  const programs = { amd64: await standInProgram("amd64"), arm64: await standInProgram("arm64") };
  for (const arch of ["amd64", "arm64"] as const) {
    files.set(`/go/go1.26.9.linux-${arch}.tar.gz`, await toolchain("go", programs[arch]));
    const nodeArch = arch === "amd64" ? "x64" : "arm64";
    files.set(
      `/node/v24.99.0/node-v24.99.0-linux-${nodeArch}.tar.gz`,
      await toolchain("node", programs[arch]),
    );
  }
  files.set("/go/go1.26.9.src.tar.gz", Buffer.from("pretend source tarball\n"));
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const body = files.get(path);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A folder with a copy of a Paketo buildpack.toml, and a cache of its own. */
async function workspace(
  name: "go-dist" | "node-engine",
): Promise<{ dir: string; file: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir("polypack-dep-authoring-");
  const file = join(dir, "buildpack.toml");
  await copyFile(fixture(`paketo/${name}.buildpack.toml`), file);
  return { dir, file, env: { POLYPACK_CACHE_DIR: join(dir, "cache") } };
}

const GO_ADD = (file: string): string[] => [
  "dependency",
  "add",
  "--buildpack",
  file,
  "--id",
  "go",
  "--version",
  "1.26.9",
  "--uri",
  `${base}/go/go{version}.{os}-{arch}.tar.gz`,
];

describe("polypack dependency add", () => {
  test("adds an entry per target in the file's dialect, checksums of what was served, the rest byte for byte", async () => {
    const { file, env, dir } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    const outcome = await polypack([...GO_ADD(file), "--source-uri", `${base}/go/go{version}.src.tar.gz`], {
      env,
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    const text = await readFile(file, "utf8");
    const added = parseDependencies(text).filter((d) => d.version === "1.26.9");
    assert.deepEqual(
      added.map((d) => [d.architecture, d.raw["checksum"], d.raw["source-checksum"]]),
      ["amd64", "arm64"].map((arch) => [
        arch,
        `sha256:${sha256(files.get(`/go/go1.26.9.linux-${arch}.tar.gz`)!)}`,
        `sha256:${sha256(files.get("/go/go1.26.9.src.tar.gz")!)}`,
      ]),
    );
    // Only insertions: removing the new entries' lines gives the original back exactly.
    const originalLines = original.split("\n");
    const lines = text.split("\n");
    let i = 0;
    while (originalLines[i] === lines[i]) i++;
    const inserted = lines.length - originalLines.length;
    assert.deepEqual(lines.slice(i + inserted), originalLines.slice(i));
    // The downloads are in polypack's checksum-keyed cache, ready for offline packaging.
    for (const d of added)
      assert.ok(existsSync(join(dir, "cache", "dependencies", "sha256", d.checksum!.hex)));
    const coverage = await polypack(["dependency", "coverage", "--buildpack", file], { env });
    assert.equal(coverage.code, 0, coverage.stderr);
    assert.match(coverage.stdout, /go\s+1\.26\.9\s+linux\/amd64, linux\/arm64/);
    // A second run finds both entries there with these checksums and writes nothing.
    const again = await polypack([...GO_ADD(file), "--target", "linux/arm64"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged/);
    assert.equal(await readFile(file, "utf8"), text);
  });

  test("an archive whose program is for another machine is refused, naming the file inside it; nothing is written", async () => {
    const { file, env } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    // A wrong --arch-name sends linux/arm64 to the amd64 tarball.
    const outcome = await polypack([...GO_ADD(file), "--arch-name", "arm64=amd64"], { env });
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /error\[DEPENDENCY_WRONG_ARCHITECTURE\]/);
    assert.match(outcome.stderr, /not for linux\/arm64: go\/bin\/go is ELF 64-bit LSB amd64/);
    assert.equal(await readFile(file, "utf8"), original);
  });

  test("--dry-run prints a unified diff that patch applies to give what a real run writes, and writes nothing", async () => {
    const { file, env, dir } = await workspace("node-engine");
    const original = await readFile(file, "utf8");
    const args = [
      "dependency",
      "add",
      "--buildpack",
      dir,
      "--id",
      "node",
      "--version",
      "24.99.0",
      "--uri",
      `${base}/node/v{version}/node-v{version}-linux-{arch:x64}.tar.gz`,
    ];
    const dry = await polypack(["--json", ...args, "--dry-run"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as {
      written: boolean;
      diff: string;
      entries: { target: string; programs: number }[];
    };
    assert.equal(report.written, false);
    assert.deepEqual(
      report.entries.map((e) => [e.target, e.programs]),
      [
        ["linux/amd64", 1],
        ["linux/arm64", 1],
      ],
    );
    assert.equal(await readFile(file, "utf8"), original, "--dry-run wrote nothing");
    const patched = join(dir, "patched.toml");
    await copyFile(file, patched);
    await writeFile(join(dir, "change.diff"), report.diff);
    await run("patch", ["--quiet", patched, join(dir, "change.diff")]);
    const real = await polypack(args, { env });
    assert.equal(real.code, 0, real.stderr);
    assert.equal(await readFile(patched, "utf8"), await readFile(file, "utf8"));
    const node = parseDependencies(await readFile(file, "utf8")).filter((d) => d.version === "24.99.0");
    assert.deepEqual(
      node.map((d) => [d.architecture, d.uri]),
      [
        ["amd64", `${base}/node/v24.99.0/node-v24.99.0-linux-x64.tar.gz`],
        ["arm64", `${base}/node/v24.99.0/node-v24.99.0-linux-arm64.tar.gz`],
      ],
    );
  });

  test("a URL that answers 404 fails with the dependency, target and URL named", async () => {
    const { file, env } = await workspace("go-dist");
    const outcome = await polypack([...GO_ADD(file).slice(0, -1), `${base}/missing/{version}-{arch}.tgz`], {
      env,
    });
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /error\[DEPENDENCY_DOWNLOAD_FAILED\]: cannot download go 1\.26\.9 for linux\/amd64 .*HTTP 404/,
    );
  });
});

describe("polypack dependency coverage and update", () => {
  test("coverage exits 1 when a target lacks a dependency, with one JSON document", async () => {
    const { file, env } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    // Every arm64 entry dropped: linux/arm64 has no go at all.
    const dependencies = parseDependencies(original);
    const withoutArm64 = original.replace(
      /\n {2}\[\[metadata\.dependencies\]\]\n {4}arch = "arm64"\n( {4}.*\n)+/g,
      "\n",
    );
    await writeFile(file, withoutArm64);
    assert.equal(parseDependencies(withoutArm64).length, dependencies.length / 2);
    const text = await polypack(["dependency", "coverage", "--buildpack", file], { env });
    assert.equal(text.code, 1);
    assert.match(
      text.stderr,
      /error\[DEPENDENCY_COVERAGE_INCOMPLETE\]: target linux\/arm64 has no version of dependency "go"/,
    );
    const json = await polypack(["--json", "dependency", "coverage", "--buildpack", file], { env });
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { dialect: string; error: { code: string } };
    assert.deepEqual([report.dialect, report.error.code], ["packit", "DEPENDENCY_COVERAGE_INCOMPLETE"]);
  });

  test("update merges a metadata.json under the constraints; --dry-run writes nothing", async () => {
    const { file, env, dir } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    const entry = (arch: string): Record<string, unknown> => ({
      id: "go",
      name: "Go",
      version: "1.26.9",
      os: "linux",
      arch,
      uri: `${base}/go/go1.26.9.linux-${arch}.tar.gz`,
      checksum: `sha256:${sha256(files.get(`/go/go1.26.9.linux-${arch}.tar.gz`)!)}`,
      stacks: ["*"],
    });
    const metadata = join(dir, "metadata.json");
    await writeFile(metadata, JSON.stringify([entry("amd64"), entry("arm64")]));
    const dry = await polypack(
      ["dependency", "update", "--buildpack", file, "--metadata", metadata, "--dry-run"],
      { env },
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^\+ {4}version = "1\.26\.9"$/m);
    assert.equal(await readFile(file, "utf8"), original);
    const real = await polypack(["dependency", "update", "--buildpack", file, "--metadata", metadata], {
      env,
    });
    assert.equal(real.code, 0, real.stderr);
    const versions = parseDependencies(await readFile(file, "utf8")).map(
      (d) => `${d.version}/${d.architecture}`,
    );
    assert.ok(versions.includes("1.26.9/arm64") && !versions.includes("1.26.6/amd64"), versions.join(" "));
    const bad = await polypack(
      ["dependency", "update", "--buildpack", file, "--metadata", join(dir, "none.json")],
      { env },
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /none\.json/);
  });

  /** A go 1.26.9 metadata.json entry for `arch` whose uri and checksum are those of `served`'s tarball. */
  const goEntry = (arch: string, served = arch, checksum?: string): Record<string, unknown> => {
    const path = `/go/go1.26.9.linux-${served}.tar.gz`;
    return {
      id: "go",
      version: "1.26.9",
      os: "linux",
      arch,
      uri: `${base}${path}`,
      checksum: checksum ?? `sha256:${sha256(files.get(path)!)}`,
      stacks: ["*"],
    };
  };
  const requested = (): number => [...requests.values()].reduce((a, b) => a + b, 0);

  test("update downloads each new entry into the cache: an arm64 entry pointing at an amd64 program is refused, nothing written", async () => {
    const { file, env, dir } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    const metadata = join(dir, "metadata.json");
    // Its checksum is right: only reading the programs inside shows it is the amd64 tarball.
    await writeFile(metadata, JSON.stringify([goEntry("amd64"), goEntry("arm64", "amd64")]));
    const args = ["dependency", "update", "--buildpack", file, "--metadata", metadata];
    for (const extra of [[], ["--dry-run"]]) {
      const outcome = await polypack(["--json", ...args, ...extra], { env });
      assert.equal(outcome.code, 1, outcome.stderr);
      const { error } = JSON.parse(outcome.stdout) as { error: { code: string; message: string } };
      assert.equal(error.code, "DEPENDENCY_WRONG_ARCHITECTURE");
      assert.ok(error.message.startsWith(`${metadata} [1] (go 1.26.9, arch = "arm64"): `), error.message);
      assert.match(
        error.message,
        /go1\.26\.9\.linux-amd64\.tar\.gz is not for linux\/arm64: go\/bin\/go is ELF 64-bit LSB amd64/,
      );
      assert.equal(await readFile(file, "utf8"), original);
    }

    // The right files: added, and in the checksum-keyed cache, so packaging will not download them again.
    await writeFile(metadata, JSON.stringify([goEntry("amd64"), goEntry("arm64")]));
    const good = await polypack(args, { env });
    assert.equal(good.code, 0, good.stderr);
    const added = parseDependencies(await readFile(file, "utf8")).filter((d) => d.version === "1.26.9");
    assert.deepEqual(
      added.map((d) => d.architecture),
      ["amd64", "arm64"],
    );
    for (const d of added)
      assert.ok(existsSync(join(dir, "cache", "dependencies", "sha256", d.checksum!.hex)));
  });

  test("update refuses a new entry whose download does not match its checksum; --no-verify downloads nothing", async () => {
    const { file, env, dir } = await workspace("go-dist");
    const original = await readFile(file, "utf8");
    const metadata = join(dir, "metadata.json");
    const wrong = `sha256:${"0".repeat(64)}`;
    await writeFile(metadata, JSON.stringify([goEntry("amd64", "amd64", wrong)]));
    const args = ["dependency", "update", "--buildpack", file, "--metadata", metadata];
    const outcome = await polypack(args, { env });
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(
      outcome.stderr,
      /error\[DEPENDENCY_CHECKSUM_MISMATCH\]: .*metadata\.json \[0\] \(go 1\.26\.9, arch = "amd64"\): cannot download go 1\.26\.9 for linux\/amd64 /,
    );
    assert.match(outcome.stderr, /hint: .*metadata\.json/);
    assert.equal(await readFile(file, "utf8"), original);
    assert.deepEqual(await readdir(join(dir, "cache", "dependencies", "sha256")).catch(() => []), []);

    // Air-gapped: the entries go in as the metadata.json says, with a warning, and no request is made.
    await writeFile(metadata, JSON.stringify([goEntry("arm64", "amd64")]));
    const before = requested();
    const offline = await polypack([...args, "--no-verify"], { env });
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /--no-verify/);
    assert.equal(requested(), before, "--no-verify downloaded something");
    assert.ok(parseDependencies(await readFile(file, "utf8")).some((d) => d.version === "1.26.9"));
  });
});
