/**
 * Byte parity with pack for buildpack folders: the layer diffID polypack records must be the
 * SHA-256 of the tar pack v0.40 writes for the same folder. The expected tar comes from Go's
 * archive/tar running pack's two passes (test/support/go-tar/main.go), not from polypack.
 */
import assert from "node:assert/strict";
import { link } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { packageBuildpack } from "../../../src/package/package.js";
import { Digest } from "../../../src/oci/digest.js";
import { packLayerTar } from "../../support/go-oracles.js";
import { tempDir } from "../../support/tmp.js";
import { buildpackToml, script, targetsToml, writeTree, type TreeFile } from "./helpers.js";

async function polypackDiffID(dir: string): Promise<string> {
  const out = join(await tempDir("polypack-parity-out-"), "layout");
  const result = await packageBuildpack({
    path: dir,
    destination: { kind: "layout", path: out, refs: [] },
    layerCache: false,
  });
  assert.equal(result.images.length, 1);
  return result.images[0]!.layerDiffID;
}

async function packDiffID(dir: string, parent = "/cnb/buildpacks"): Promise<string> {
  return Digest.of(await packLayerTar(dir, parent, "example/hello", "1.0.0")).toString();
}

const LONG_DIR = `share/${"d".repeat(60)}`;

test("long, split and non-ASCII names and long link targets give pack's diffID", async () => {
  const files: Record<string, TreeFile> = {
    "buildpack.toml": buildpackToml(targetsToml("linux/amd64")),
    "bin/build": script("echo build"),
    "bin/detect": script("echo detect"),
    // Relative name fits ustar; the full name (over 100 bytes) is split where Go splits it.
    [`${LONG_DIR}/${"f".repeat(70)}`]: "split",
    [`${LONG_DIR}/${"g".repeat(20)}/${"h".repeat(40)}`]: "split deeper",
    // Non-ASCII and unsplittable names need PAX in both of pack's passes.
    "docs/naïve-résumé.txt": "accents",
    [`docs/${"x".repeat(120)}`]: "one long segment",
    // A symbolic link whose target is over 100 bytes.
    "docs/far": { symlink: `../${LONG_DIR}/${"f".repeat(70)}` },
    "docs/near": { symlink: "naïve-résumé.txt" },
  };
  const dir = await writeTree(files);
  assert.equal(await polypackDiffID(dir), await packDiffID(dir));
});

test("hard links stay hard links to the first path, under the buildpack's folder, as pack writes them", async () => {
  const dir = await writeTree({
    "buildpack.toml": buildpackToml(targetsToml("linux/amd64")),
    "bin/build": script("echo build"),
    "lib/a.sh": script("echo shared"),
  });
  await link(join(dir, "lib/a.sh"), join(dir, "bin/detect"));
  await link(join(dir, "lib/a.sh"), join(dir, "lib/z.sh"));
  assert.equal(await polypackDiffID(dir), await packDiffID(dir));
});
