/**
 * `polypack test` on the bundled example (examples/hello-multiarch): its pre-package step
 * cross-compiles a Go program per target, and the arm64 one runs on this x86-64 machine under proot
 * and qemu-user, picking the arm64 dependency.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { cp, open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type { TestReport } from "../../src/emulate/test-run.js";
import { classifyProgram } from "../../src/verify/elf.js";
import { polypack } from "../support/cli.js";
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

describe("polypack test on the bundled example", () => {
  it("runs the arm64 detect and build under emulation, and the build picks the arm64 dependency", async () => {
    const example = await copyOfExample();
    const layers = join(await tempDir(), "layers");
    const outcome = await polypack([
      "--json",
      "test",
      example,
      "--target",
      "linux/arm64",
      "--layers",
      layers,
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const report = JSON.parse(outcome.stdout) as TestReport;
    const target = report.targets[0]!;
    assert.equal(target.platform, "linux/arm64");
    assert.equal(target.emulation, "proot + qemu-aarch64-static");
    const detect = target.groups[0]!.detect[0]!;
    assert.equal(detect.program, "ELF 64-bit LSB arm64");
    assert.match(detect.stdout, /hello-multiarch detect: built for linux\/arm64, target linux\/arm64/);
    const build = target.builds[0]!;
    assert.equal(build.program, "ELF 64-bit LSB arm64");
    assert.match(build.stdout, /hello-multiarch build: built for linux\/arm64, target linux\/arm64/);
    assert.match(
      build.stdout,
      /hello-runtime 1\.1\.0 from file:dependencies-src\/hello-runtime-1\.1\.0-linux-arm64\.tgz/,
    );
    const kept = join(layers, "linux-arm64", "examples_hello-multiarch");
    assert.equal(await readFile(join(kept, "hello", "env", "HELLO_ARCH"), "utf8"), "arm64");
    assert.deepEqual(build.layers?.layers, [
      { name: "hello", types: { launch: true, build: true, cache: false }, hasFolder: true },
    ]);
    // The program that ran is the one pre-package built for arm64 (the machine of its ELF header).
    const handle = await open(join(example, "linux", "arm64", "bin", "run"), "r");
    const head = Buffer.alloc(64);
    await handle.read(head, 0, 64, 0);
    await handle.close();
    const kind = classifyProgram(head);
    assert.ok(kind.kind === "elf" && kind.elf.machine === 183 && kind.elf.architecture === "arm64");
  });
});
