/**
 * Same inputs, same digests, on any machine: the same buildpack packaged by the Node.js running the
 * tests, by the official arm64 build of the same Node.js (under qemu-user), and by this Node.js on a
 * baseline x86-64 processor without the instructions zlib and OpenSSL pick faster code for. The
 * buildpack has a layer with compressed members (where a zlib whose output depended on the processor
 * would show), stored members and a small single-member layer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { arm64Node, baselineX64Node, type ForeignNode } from "../support/foreign-node.js";
import { pseudoRandomStream } from "../support/images.js";
import { tempDir } from "../support/tmp.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "bin.js");
const MiB = 1024 * 1024;

interface Packaged {
  digest: string;
  stored: number;
  compressed: number;
}

async function buildpack(dir: string): Promise<string> {
  const path = join(dir, "bp");
  await mkdir(join(path, "bin"), { recursive: true });
  await writeFile(
    join(path, "buildpack.toml"),
    'api = "0.10"\n[buildpack]\nid = "test/repro"\nversion = "1.0.0"\n' +
      '[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "arm64"\n',
  );
  for (const name of ["detect", "build"]) {
    await writeFile(join(path, "bin", name), "#!/bin/sh\nexit 0\n");
    await chmod(join(path, "bin", name), 0o755);
  }
  // Compressible: a big generated JavaScript file, compressed by zlib member by member.
  const lines: string[] = [];
  for (let i = 0, size = 0; size < 4.5 * MiB; i++) {
    const line = `export function f${i}(x) { return x * ${i} + ${i % 97}; } // ${"ab".repeat(i % 13)}\n`;
    lines.push(line);
    size += line.length;
  }
  await writeFile(join(path, "lib.js"), lines.join(""));
  // Incompressible: stored members.
  await pipeline(pseudoRandomStream("repro", 5 * MiB), createWriteStream(join(path, "data.bin")));
  return path;
}

function packageWith(
  node: ForeignNode | undefined,
  path: string,
  output: string,
  cache: string,
): Promise<Packaged> {
  const args = [
    "buildpack",
    "package",
    "test/repro:1.0.0",
    "--path",
    path,
    "--format",
    "layout",
    "--output",
    output,
    "--json",
  ];
  const [program, prefix] = node ? [node.program, node.prefix] : [process.execPath, []];
  return new Promise((resolve, reject) => {
    execFile(
      program,
      [...prefix, CLI, ...args],
      // Each run has its own empty layer cache, so every member is made by the Node.js under test.
      { env: { ...process.env, CI: "true", POLYPACK_CACHE_DIR: cache }, maxBuffer: 16 * MiB },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${node?.name ?? "this Node.js"}: ${stderr || error.message}`));
          return;
        }
        const report = JSON.parse(stdout) as {
          digest: string;
          targets: { layer: { stored: number; compressed: number } }[];
        };
        const layer = report.targets[0]!.layer;
        resolve({ digest: report.digest, stored: layer.stored, compressed: layer.compressed });
      },
    );
  });
}

test("a buildpack packaged on this machine, by arm64 Node.js and on a baseline x86-64 processor has the same digests", async () => {
  const dir = await tempDir("polypack-repro-machines-");
  const path = await buildpack(dir);
  const here = await packageWith(undefined, path, join(dir, "here"), join(dir, "cache-here"));
  assert.ok(here.compressed > 1, `members compressed by zlib: ${JSON.stringify(here)}`);
  assert.ok(here.stored > 0, `stored members: ${JSON.stringify(here)}`);
  const [arm64, baseline] = await Promise.all([
    arm64Node().then((node) => packageWith(node, path, join(dir, "arm64"), join(dir, "cache-arm64"))),
    packageWith(baselineX64Node(), path, join(dir, "baseline"), join(dir, "cache-baseline")),
  ]);
  assert.equal(arm64.digest, here.digest, "the official arm64 Node.js packaged other bytes");
  assert.equal(baseline.digest, here.digest, "a baseline x86-64 processor gave other bytes");
  const index = await readFile(join(dir, "arm64", "index.json"), "utf8");
  assert.match(index, new RegExp(here.digest));
});
