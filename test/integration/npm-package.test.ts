/**
 * The npm package as a user gets it: `npm pack` holds only what users need, and the tarball
 * installed into an empty folder (nothing but the npm registry, or its local cache) runs: its
 * `--version` is package.json's, its help prints, and it packages and verifies a buildpack.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const execFileAsync = promisify(execFile);
const repository = process.cwd();

/** What a user of the package needs; anything else in the tarball is a mistake. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^CHANGELOG\.md$/,
  /^LICENSE$/,
  /^docs\/errors\.md$/,
  /^schemas\/[\w.-]+$/,
  /^dist\/src\/[\w/.-]+\.(js|d\.ts)$/,
];

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe("the npm package", () => {
  it("holds only what users need, installs into an empty folder and runs", async () => {
    const work = await tempDir("polypack-npm-package-");
    const packed = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: repository });
    const [result] = JSON.parse(packed) as PackResult[];
    const paths = result!.files.map((f) => f.path);
    const stray = paths.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)));
    assert.deepEqual(stray, [], "files users do not need");
    for (const needed of [
      "LICENSE",
      "CHANGELOG.md",
      "dist/src/cli/bin.js",
      "dist/src/index.d.ts",
      "schemas/spdx-2.3.schema.json",
    ]) {
      assert.ok(paths.includes(needed), `${needed} is in the package`);
    }
    assert.match(await readFile(join(repository, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);

    const app = join(work, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), '{ "name": "app", "private": true }\n');
    await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, result!.filename)],
      { cwd: app },
    );
    const bin = join(app, "node_modules", ".bin", "polypack");
    const { version } = JSON.parse(await readFile(join(repository, "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal((await run(bin, ["--version"], { cwd: app })).trim(), version);
    assert.match(await run(bin, ["--help"], { cwd: app }), /Usage: polypack/);

    // A real job from the installed copy: package a small buildpack, then verify what it wrote.
    const buildpack = join(app, "bp");
    await mkdir(join(buildpack, "bin"), { recursive: true });
    await writeFile(
      join(buildpack, "buildpack.toml"),
      'api = "0.10"\n[buildpack]\nid = "npm/check"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\narch = "amd64"\n',
    );
    for (const phase of ["detect", "build"]) {
      await writeFile(join(buildpack, "bin", phase), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
    const env = { ...process.env, POLYPACK_CACHE_DIR: join(work, "cache") };
    const layout = join(app, "out");
    await run(
      bin,
      ["buildpack", "package", "npm/check", "--path", buildpack, "--format", "layout", "--output", layout],
      {
        cwd: app,
        env,
      },
    );
    const report = JSON.parse(await run(bin, ["verify", `oci:${layout}`, "--json"], { cwd: app, env })) as {
      ok: boolean;
    };
    assert.equal(report.ok, true);
  });

  it("stops quietly when the reader of its output goes away", async () => {
    const bin = JSON.stringify(join(repository, "dist", "src", "cli", "bin.js"));
    // `head` closes the pipe after the first bytes while polypack is still writing its help.
    const { stdout, stderr } = await execFileAsync("bash", [
      "-c",
      `for i in 1 2 3; do node ${bin} buildpack package --help | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"; done`,
    ]);
    assert.deepEqual(stdout.trim().split("\n"), ["0", "0", "0"]);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });
});
