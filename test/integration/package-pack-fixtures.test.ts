/**
 * pack's own acceptance buildpack for per-target folders (test/fixtures/pack/multi-platform-buildpack)
 * packages with polypack: its linux and windows folders become one index. Its linux/arm64 target
 * has no folder and no binaries; pack would package the amd64 folder's files for it, polypack
 * refuses that target with the paths it looked at.
 */
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { fixture } from "../support/fixtures.js";
import { tempDir } from "../support/tmp.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

test("pack's multi-platform-buildpack packages for its folders; its folderless linux/arm64 is refused", async () => {
  const work = await tempDir("polypack-pack-fixture-");
  const bp = join(work, "bp");
  await cp(fixture("pack/multi-platform-buildpack"), bp, { recursive: true });
  const layout = join(work, "out");
  await polypackOk([
    "buildpack",
    "package",
    "simple",
    "--path",
    bp,
    "--target",
    "linux/amd64",
    "--target",
    "windows/amd64",
    "--output",
    layout,
  ]);
  const top = await readJSON<ImageIndex>(join(layout, "index.json"));
  const index = await readJSON<ImageIndex>(join(layout, "blobs/sha256", top.manifests[0]!.digest.slice(7)));
  assert.deepEqual(
    index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
    ["linux/amd64", "windows/amd64"],
  );

  const all = await polypack(["buildpack", "package", "simple", "--path", bp, "--output", join(work, "all")]);
  assert.equal(all.code, 1, all.stderr);
  assert.match(
    all.stderr,
    /error\[BUILDPACK_TARGET_BINARIES_MISSING\]: target linux\/arm64 has no bin\/build/,
  );
});
