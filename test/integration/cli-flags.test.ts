/**
 * Bad values of numeric and enumerated flags, on every command that has one: a usage error (exit 2)
 * naming the flag and the value, never INTERNAL (exit 70) with a stack trace, and nothing done.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { polypack } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";

const CASES: { args: (dir: string) => string[]; flag: string; value: string }[] = [
  ...["0", "-3", "1.5", "lots", "100000"].map((value) => ({
    args: (dir: string) => [
      "copy",
      `oci:${join(dir, "missing")}`,
      join(dir, "out.cnb"),
      "--concurrency",
      value,
    ],
    flag: "--concurrency <n>",
    value,
  })),
  ...["tarball", "FILE"].map((value) => ({
    args: (dir: string) => [
      "buildpack",
      "package",
      "x",
      "--path",
      dir,
      "--format",
      value,
      "--output",
      join(dir, "o"),
    ],
    flag: "-f, --format <format>",
    value,
  })),
  // Past about 24.8 days Node's timers overflow and fire at once, so the bound is part of the check.
  ...["0", "soon", "3000000"].map((value) => ({
    args: (dir: string) => ["--registry-timeout", value, "manifest", "inspect", `oci:${dir}`],
    flag: "--registry-timeout <seconds>",
    value,
  })),
  {
    args: (dir) => [
      "extension",
      "package",
      "x",
      "--path",
      dir,
      "--format",
      "docker",
      "--output",
      join(dir, "o"),
    ],
    flag: "-f, --format <format>",
    value: "docker",
  },
];

for (const { args, flag, value } of CASES) {
  test(`${flag} ${JSON.stringify(value)}: usage error, exit 2`, async () => {
    const dir = await tempDir();
    const outcome = await polypack(args(dir));
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.ok(outcome.stderr.includes(`option '${flag}' argument '${value}' is invalid`), outcome.stderr);
    assert.doesNotMatch(outcome.stderr, /INTERNAL|^\s+at /m);
    assert.deepEqual(await readdir(dir), [], "nothing written");
  });
}
