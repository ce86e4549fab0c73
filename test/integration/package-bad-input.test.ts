/**
 * `polypack buildpack package` (and `extension package`) given bad input: ids and versions that are
 * not folder names, outputs that must not be replaced or cannot be written, cache directories that
 * cannot be created, and bad flag values. Each fails with exit 1 (2 for usage errors), a stable
 * code, the path or key at fault named, no stack trace, and nothing written.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { polypack, type Outcome } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";
import { buildpackToml, script, targetsToml, writeTree, type TreeFile } from "../unit/package/helpers.js";

/** A small buildpack for linux/amd64 with shell-script binaries, as an object literal. */
function buildpackFiles(toml = buildpackToml(targetsToml("linux/amd64"))): Record<string, TreeFile> {
  return {
    "buildpack.toml": toml,
    "bin/build": script("echo build"),
    "bin/detect": script("echo detect"),
  };
}

/** Asserts a user error: the exit status, `error[CODE]` on stderr, each text mentioned, no stack trace. */
function failsWith(outcome: Outcome, code: string, mentions: readonly string[] = [], exit = 1): void {
  assert.equal(outcome.code, exit, `exit status; stderr: ${outcome.stderr}`);
  assert.match(outcome.stderr, new RegExp(`^error\\[${code}\\]: `, "m"), outcome.stderr);
  for (const text of mentions) assert.ok(outcome.stderr.includes(text), `${text} in: ${outcome.stderr}`);
  assert.doesNotMatch(outcome.stderr, /^\s+at /m, "no stack trace for a user error");
  assert.doesNotMatch(outcome.stderr, /INTERNAL|bug in polypack/);
}

describe("ids and versions that would leave /cnb/buildpacks/<id>/<version>/", () => {
  for (const [kind, file] of [
    ["buildpack", "buildpack.toml"],
    ["extension", "extension.toml"],
  ] as const) {
    test(`${kind}: id '..' with version 'lifecycle' (which would overwrite /cnb/lifecycle/bin/build)`, async () => {
      const toml = `api = "0.10"\n\n[${kind}]\n  id = ".."\n  version = "lifecycle"\n\n${targetsToml("linux/amd64")}`;
      const { "buildpack.toml": _descriptor, ...bin } = buildpackFiles();
      const dir = await writeTree({ ...bin, [file]: toml });
      const out = await tempDir();
      const outcome = await polypack([kind, "package", "x", "--path", dir, "--output", join(out, "x.cnb")]);
      failsWith(outcome, "BUILDPACK_ID_INVALID", [`${join(dir, file)}:4: [${kind}].id: invalid id ".."`]);
      assert.deepEqual(await readdir(out), [], "nothing written");
    });
  }

  test("a version holding '/' and '..' segments", async () => {
    const dir = await writeTree(
      buildpackFiles(buildpackToml(targetsToml("linux/amd64"), "a/b", "1.0/../../../lifecycle")),
    );
    const out = await tempDir();
    const outcome = await polypack([
      "buildpack",
      "package",
      "x",
      "--path",
      dir,
      "--output",
      join(out, "x.cnb"),
    ]);
    failsWith(outcome, "BUILDPACK_VERSION_INVALID", [
      `${join(dir, "buildpack.toml")}:5: [buildpack].version`,
    ]);
    assert.deepEqual(await readdir(out), [], "nothing written");
  });
});
