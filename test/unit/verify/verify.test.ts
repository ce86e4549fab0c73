/**
 * verifyArtifact over images made with the image model (no registry, no CLI): lifecycles, index
 * entries that disagree with configs, whiteouts, links, labels and --allow patterns.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { describe, it } from "node:test";
import { newIndex } from "../../../src/image/index-edit.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { LayerSpool } from "../../../src/image/spool.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { allowMatcher } from "../../../src/verify/findings.js";
import { verifyArtifact } from "../../../src/verify/verify.js";
import { goProgram } from "../../support/go-programs.js";
import { tempDir } from "../../support/tmp.js";
import { run } from "../../support/tools.js";

async function fileEntry(path: string, source: string): Promise<LayerEntry> {
  const { size } = await stat(source);
  return { path, type: "file", mode: 0o755, size, open: () => createReadStream(source) };
}

function textEntry(path: string, text: string): LayerEntry {
  return { path, type: "file", mode: 0o644, content: Buffer.from(text) };
}

async function spool(): Promise<LayerSpool> {
  return LayerSpool.create(`${await tempDir("polypack-verify-unit-")}/out`);
}

describe("verifyArtifact", () => {
  it("finds a builder whose arm64 lifecycle is x86-64, naming the phases that link to it", async () => {
    const amd64 = await goProgram("amd64");
    const layers = await spool();
    const layer = await layers.write([
      await fileEntry("cnb/lifecycle/lifecycle", amd64),
      { path: "cnb/lifecycle/detector", type: "symlink", linkname: "lifecycle" },
      { path: "cnb/lifecycle/builder", type: "symlink", linkname: "/cnb/lifecycle/lifecycle" },
    ]);
    const builder = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), {
      add: [{ layer }],
      labels: { "io.buildpacks.builder.metadata": "{}" },
    });
    const report = await verifyArtifact(builder, { name: "builder" });
    assert.equal(report.ok, false);
    assert.equal(report.findings.length, 1, JSON.stringify(report.findings));
    const [finding] = report.findings;
    assert.equal(finding!.platform, "linux/arm64");
    assert.match(finding!.subject, /^\/cnb\/lifecycle\/lifecycle \(linked from /);
    assert.match(finding!.subject, /\/cnb\/lifecycle\/detector/);
    assert.match(finding!.subject, /\/cnb\/lifecycle\/builder/);
    assert.match(finding!.found, /amd64/);
    // `file` agrees: the program is x86-64, not aarch64.
    assert.match(await run("file", ["-b", amd64]), /x86-64/);
    await layers.remove();
  });

  it("finds an index entry whose platform disagrees with its image's config", async () => {
    const arm64 = await goProgram("arm64");
    const layers = await spool();
    const layer = await layers.write([await fileEntry("bin/run", arm64)]);
    const image = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), { add: [{ layer }] });
    const index = newIndex([{ artifact: image, platform: { os: "linux", architecture: "amd64" } }]);
    const report = await verifyArtifact(index, { name: "index" });
    const subjects = report.findings.map((f) => `${f.check} ${f.subject} ${f.expected} ${f.found}`);
    assert.ok(
      subjects.some((s) =>
        /^metadata config os\/architecture\/variant linux\/amd64 .* linux\/arm64$/.test(s),
      ),
      subjects.join("\n"),
    );
    // Read as the entry claims (amd64), the arm64 program is foreign too.
    assert.ok(
      subjects.some((s) => s.startsWith("program /bin/run linux/amd64")),
      subjects.join("\n"),
    );
    assert.match(await run("file", ["-b", arm64]), /aarch64/);
    await layers.remove();
  });

  it("passes the right programs, and forgets what a later layer's whiteout removed", async () => {
    const [amd64, arm64] = [await goProgram("amd64"), await goProgram("arm64")];
    const layers = await spool();
    const first = await layers.write([
      await fileEntry("opt/tool/run", amd64),
      await fileEntry("bin/run", arm64),
    ]);
    const second = await layers.write([textEntry("opt/.wh.tool", "")]);
    const image = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), {
      add: [{ layer: first }, { layer: second }],
    });
    const report = await verifyArtifact(newIndex([{ artifact: image }]));
    assert.deepEqual(report.findings, []);
    assert.equal(report.ok, true);
    assert.equal(report.platforms[0]?.programs, 1);
    await layers.remove();
  });

  it("reports a label that names a layer the image lacks, and a descriptor for another platform", async () => {
    const layers = await spool();
    const toml = [
      'api = "0.10"',
      "[buildpack]",
      'id = "x/y"',
      'version = "1.0.0"',
      "[[targets]]",
      'os = "linux"',
      'arch = "amd64"',
      "[[metadata.dependencies]]",
      'id = "node"',
      'version = "20.0.0"',
      'arch = "amd64"',
      'uri = "https://example.invalid/node.tgz"',
      `sha256 = "${"0".repeat(64)}"`,
    ].join("\n");
    const layer = await layers.write([textEntry("cnb/buildpacks/x_y/1.0.0/buildpack.toml", toml)]);
    const image = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), {
      add: [{ layer }],
      labels: {
        "io.buildpacks.buildpack.layers": JSON.stringify({
          "x/y": { "1.0.0": { api: "0.10", layerDiffID: `sha256:${"1".repeat(64)}` } },
        }),
        "io.buildpacks.buildpackage.metadata": JSON.stringify({ id: "x/y", version: "1.0.0" }),
      },
    });
    const report = await verifyArtifact(image);
    const subjects = report.findings.map((f) => `${f.subject} | ${f.expected} | ${f.found}`);
    assert.equal(report.ok, false);
    assert.ok(
      subjects.some((s) => s.includes("x/y@1.0.0 | a layerDiffID among")),
      subjects.join("\n"),
    );
    assert.ok(
      subjects.some((s) => s.includes("[[targets]] | linux/arm64 | linux/amd64")),
      subjects.join("\n"),
    );
    assert.ok(
      subjects.some((s) => s.includes("dependency node@20.0.0 | linux/arm64 | */amd64")),
      subjects.join("\n"),
    );
    await layers.remove();
  });
});

describe("allowMatcher", () => {
  it("matches * within a segment, ** across, and bare names anywhere", () => {
    const match = allowMatcher(["/cnb/**/cross/*-gcc", "busybox", "opt/?.so"]);
    assert.equal(match("/cnb/buildpacks/x/1/cross/aarch64-gcc"), "/cnb/**/cross/*-gcc");
    assert.equal(match("cnb/cross/x86_64-gcc"), "/cnb/**/cross/*-gcc");
    assert.equal(match("/cnb/buildpacks/x/1/cross/sub/x-gcc"), undefined);
    assert.equal(match("/usr/bin/busybox"), "busybox");
    assert.equal(match("/opt/a.so"), "opt/?.so");
    assert.equal(match("/opt/ab.so"), undefined);
  });
});
