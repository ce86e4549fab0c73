/**
 * `polypack test` on the bundled example (examples/hello-multiarch): its pre-package step
 * cross-compiles a Go program per target, and the arm64 one runs on this x86-64 machine under proot
 * and qemu-user, installing the arm64 hello-runtime (a real aarch64 program) into its layer.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, open, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type { TestReport } from "../../src/emulate/test-run.js";
import { Platform } from "../../src/oci/platform.js";
import { classifyProgram, runsOn, type ProgramKind } from "../../src/verify/elf.js";
import { polypack } from "../support/cli.js";
import { run } from "../support/tools.js";
import { tempDir } from "../support/tmp.js";

/** The checkout's examples/hello-multiarch, found above this (compiled) file. */
export function exampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "examples", "hello-multiarch", "buildpack.toml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples/hello-multiarch not found above the test file");
    dir = parent;
  }
  return join(dir, "examples", "hello-multiarch");
}

/** A copy of the example without an earlier build's binaries (pre-package writes into the folder). */
export async function copyOfExample(): Promise<string> {
  const source = exampleDir();
  const dir = join(await tempDir("polypack-emulate-example-"), "hello-multiarch");
  await cp(source, dir, { recursive: true, filter: (path) => path !== join(source, "linux") });
  return dir;
}

/** What src/verify/elf.ts makes of a file's first bytes. */
async function programKind(path: string): Promise<ProgramKind> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    return classifyProgram(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** The report of a `polypack --json test` run, passed or failed (stdout is one JSON document). */
function parseReport(stdout: string): TestReport & { error?: { code: string } } {
  return JSON.parse(stdout) as TestReport & { error?: { code: string } };
}

/** Where the example's build installs the hello-runtime program, below a kept layers folder. */
const INSTALLED = join("examples_hello-multiarch", "hello", "hello-runtime", "bin", "hello-runtime");

describe("polypack test on the bundled example", () => {
  it("installs the arm64 hello-runtime under emulation and the amd64 one natively, each its own machine", async () => {
    const example = await copyOfExample();
    const layers = join(await tempDir(), "layers");
    const outcome = await polypack([
      "--json",
      "test",
      example,
      "--target",
      "linux/arm64",
      "--target",
      "linux/amd64",
      "--layers",
      layers,
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const report = parseReport(outcome.stdout);
    assert.deepEqual(
      report.targets.map((t) => [t.platform, t.emulation, t.passed]),
      [
        ["linux/arm64", "proot + qemu-aarch64-static", true],
        ["linux/amd64", "native", true],
      ],
    );
    const cases = [
      { arch: "arm64", machine: 183, file: /ELF 64-bit LSB executable, ARM aarch64/ },
      { arch: "amd64", machine: 62, file: /ELF 64-bit LSB executable, x86-64/ },
    ] as const;
    for (const [i, { arch, machine, file }] of cases.entries()) {
      const target = report.targets[i]!;
      const detect = target.groups[0]!.detect[0]!;
      assert.equal(detect.program, `ELF 64-bit LSB ${arch}`);
      assert.match(
        detect.stdout,
        new RegExp(`hello-multiarch detect: built for linux/${arch}, target linux/${arch}`),
      );
      const build = target.builds[0]!;
      assert.equal(build.program, `ELF 64-bit LSB ${arch}`);
      assert.match(
        build.stdout,
        new RegExp(`hello-multiarch build: built for linux/${arch}, target linux/${arch}`),
      );
      assert.match(
        build.stdout,
        new RegExp(
          `installing hello-runtime 1\\.1\\.0 from file:dependencies-src/hello-runtime-1\\.1\\.0-linux-${arch}\\.tgz`,
        ),
      );
      // The installed program itself ran inside the build (emulated for arm64) and said what it is.
      assert.match(
        build.stdout,
        new RegExp(`^hello-multiarch build: hello-runtime says: hello-runtime 1\\.1\\.0 ${arch}$`, "m"),
      );
      assert.deepEqual(build.layers?.layers, [
        { name: "hello", types: { launch: true, build: true, cache: false }, hasFolder: true },
      ]);
      assert.equal(build.layers?.programsChecked, 1, "polypack checked the installed program");
      assert.deepEqual(build.layers?.problems, []);

      const kept = join(layers, `linux-${arch}`);
      const installed = join(kept, INSTALLED);
      assert.match(await run("file", ["--brief", installed]), file);
      const kind = await programKind(installed);
      assert.ok(kind.kind === "elf" && kind.elf.machine === machine && kind.elf.architecture === arch);
      assert.ok(runsOn(kind, Platform.parse(`linux/${arch}`, "test")), `${installed} runs on linux/${arch}`);
      const env = join(kept, "examples_hello-multiarch", "hello", "env");
      assert.equal(await readFile(join(env, "HELLO_ARCH"), "utf8"), arch);
      assert.equal(await readFile(join(env, "HELLO_RUNTIME_VERSION"), "utf8"), "1.1.0");
      assert.match(await readFile(join(env, "PATH.prepend"), "utf8"), /\/hello\/hello-runtime\/bin$/);
    }
    // The arm64 program that ran is the one pre-package built for arm64 (the machine of its ELF header).
    const kind = await programKind(join(example, "linux", "arm64", "bin", "run"));
    assert.ok(kind.kind === "elf" && kind.elf.machine === 183 && kind.elf.architecture === "arm64");
  });

  it("an offline package's build installs the archive from dependencies/<hex> (file:///dependencies/ URIs)", async () => {
    const example = await copyOfExample();
    const work = await tempDir();
    const layout = join(work, "offline");
    const packaged = await polypack([
      "buildpack",
      "package",
      "hello",
      "--path",
      example,
      "--offline",
      "--cache-dir",
      join(work, "cache"),
      "--target",
      "linux/amd64",
      "--format",
      "layout",
      "--output",
      layout,
    ]);
    assert.equal(packaged.code, 0, packaged.stderr);
    const outcome = await polypack(["--json", "test", `oci:${layout}`, "--target", "linux/amd64"]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const build = parseReport(outcome.stdout).targets[0]!.builds[0]!;
    const hex = createHash("sha256")
      .update(await readFile(join(example, "dependencies-src", "hello-runtime-1.1.0-linux-amd64.tgz")))
      .digest("hex");
    assert.match(
      build.stdout,
      new RegExp(`installing hello-runtime 1\\.1\\.0 from file:///dependencies/${hex} `),
    );
    assert.match(build.stdout, /^hello-multiarch build: hello-runtime says: hello-runtime 1\.1\.0 amd64$/m);
  });

  it("a wrong-architecture dependency is refused by packaging, and with --allow the arm64 test fails naming the installed file", async () => {
    const example = await copyOfExample();
    // The arm64 1.1.0 entry now names the amd64 archive, with that archive's true checksum.
    const toml = join(example, "buildpack.toml");
    const amd64Archive = "dependencies-src/hello-runtime-1.1.0-linux-amd64.tgz";
    const checksum = `sha256:${createHash("sha256")
      .update(await readFile(join(example, amd64Archive)))
      .digest("hex")}`;
    const entries = (await readFile(toml, "utf8")).split("[[metadata.dependencies]]");
    const arm64 = entries.findIndex((entry) => entry.includes("hello-runtime-1.1.0-linux-arm64.tgz"));
    assert.ok(arm64 > 0);
    entries[arm64] = entries[arm64]!.replace(/checksum = "[^"]*"/, `checksum = "${checksum}"`).replace(
      /uri = "[^"]*"/,
      `uri = "file:${amd64Archive}"`,
    );
    await writeFile(toml, entries.join("[[metadata.dependencies]]"));
    const refused = await polypack(["test", example, "--target", "linux/arm64"]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error\[VERIFY_FAILED\]/m);
    assert.match(
      refused.stderr,
      /hello-runtime-1\.1\.0-linux-amd64\.tgz!hello-runtime\/bin\/hello-runtime: expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );

    // proot runs an x86-64 program natively even in the arm64 root, so the build itself need not
    // notice: the check of what it installed is what catches it.
    const outcome = await polypack([
      "--json",
      "test",
      example,
      "--target",
      "linux/arm64",
      "--allow",
      "**/hello-runtime-1.1.0-linux-amd64.tgz!**",
    ]);
    assert.equal(outcome.code, 1, outcome.stderr);
    const report = parseReport(outcome.stdout);
    assert.equal(report.error?.code, "TEST_FAILED");
    const target = report.targets[0]!;
    assert.equal(target.passed, false);
    const path = "/layers/examples_hello-multiarch/hello/hello-runtime/bin/hello-runtime";
    assert.deepEqual(target.builds[0]!.layers?.problems, [{ path, found: "ELF 64-bit LSB amd64" }]);
    assert.ok(
      target.failure?.includes(`${path}, ELF 64-bit LSB amd64, which does not run on linux/arm64`),
      target.failure,
    );
  });
});
