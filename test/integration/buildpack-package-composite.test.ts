/**
 * Composite buildpackages from package.toml: a buildpack folder, a multi-arch `.cnb` written by
 * polypack, pack's own hello-universe.cnb (Docker media types, no architecture) and a registry
 * image, each contributing the layers of the right platform, with labels merged as pack does.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readEntryContent, readLayer } from "../../src/layer/read-layer.js";
import { OciLayout } from "../../src/layout/oci-layout.js";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { fixture, writeTree, script, buildpackToml, targetsToml } from "../unit/package/helpers.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

const ARCHES = ["amd64", "arm64"] as const;

async function childFolders(work: string): Promise<void> {
  await writeTree(
    {
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64"), "example/child-a", "1.0.0"),
      ...Object.fromEntries(
        ARCHES.flatMap((arch) => [
          [`linux/${arch}/bin/build`, script(`echo child-a ${arch}`)],
          [`linux/${arch}/bin/detect`, script(`echo child-a ${arch}`)],
        ]),
      ),
    },
    join(work, "child-a"),
  );
  await writeTree(
    {
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64"), "example/child-b", "2.0.0"),
      "bin/build": script("echo child-b"),
      "bin/detect": script("echo child-b"),
    },
    join(work, "child-b-src"),
  );
}

/** The composite buildpack folder, once, and a package.toml beside it naming `dependencies`. */
async function composite(work: string, name: string, dependencies: string[]): Promise<string> {
  const dir = join(work, "composite-bp");
  await writeTree(
    {
      "buildpack.toml": buildpackToml(
        `[[order]]\n  [[order.group]]\n    id = "example/child-a"\n    version = "1.0.0"\n  [[order.group]]\n    id = "example/child-b"\n    version = "2.0.0"\n` +
          `[[order]]\n  [[order.group]]\n    id = "io.buildpacks.samples.hello-universe"\n    version = "0.0.1"\n`,
        "example/composite",
        "3.0.0",
      ),
      "README.md": "a composite",
    },
    dir,
  );
  const config = join(work, `${name}.package.toml`);
  await writeFile(
    config,
    `[buildpack]\nuri = "composite-bp"\n\n${dependencies.join("\n")}\n\n${targetsToml("linux/amd64", "linux/arm64")}`,
  );
  return config;
}

describe("composite buildpackages from package.toml", () => {
  let registry: RegistryHandle;
  let work: string;
  let fromCnb: { layout: string; index: ImageIndex; digest: string };

  before(async () => {
    registry = await startRegistry();
    work = await tempDir("polypack-composite-");
    await childFolders(work);
    await polypackOk([
      "buildpack",
      "package",
      "b",
      "--path",
      join(work, "child-b-src"),
      "--output",
      join(work, "child-b.cnb"),
    ]);
    const config = await composite(work, "composite", [
      '[[dependencies]]\nuri = "child-a"',
      '[[dependencies]]\nuri = "child-b.cnb"',
      `[[dependencies]]\nuri = "file://${fixture("pack/hello-universe.cnb")}"`,
    ]);
    const layout = join(work, "out");
    const outcome = await polypackOk([
      "buildpack",
      "package",
      "composite",
      "--config",
      config,
      "--output",
      layout,
    ]);
    assert.match(outcome.stderr, /hello-universe\.cnb names no architecture/);
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    const digest = top.manifests[0]!.digest;
    fromCnb = {
      layout,
      digest,
      index: await readJSON<ImageIndex>(join(layout, "blobs", "sha256", digest.slice(7))),
    };
  });
  after(async () => {
    await registry?.stop();
  });

  test("each platform's image holds every dependency's layers for that platform, then the composite's", async () => {
    assert.deepEqual(
      fromCnb.index.manifests.map((m) => m.platform?.architecture),
      ["amd64", "arm64"],
    );
    const layout = await OciLayout.open(fromCnb.layout);
    for (const [i, arch] of ARCHES.entries()) {
      const manifest = await readJSON<ImageManifest>(layout.blobPath(fromCnb.index.manifests[i]!.digest));
      assert.equal(manifest.layers.length, 6, "child-a, child-b, hello-moon/world/universe, composite");
      assert.ok(manifest.layers.every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip"));
      const config = await readJSON<{
        rootfs: { diff_ids: string[] };
        config: { Labels: Record<string, string> };
      }>(layout.blobPath(manifest.config.digest));
      const labels = config.config.Labels;
      const modules = JSON.parse(labels["io.buildpacks.buildpack.layers"]!) as Record<
        string,
        Record<string, { layerDiffID: string }>
      >;
      assert.deepEqual(Object.keys(modules), [
        "example/child-a",
        "example/child-b",
        "example/composite",
        "io.buildpacks.samples.hello-moon",
        "io.buildpacks.samples.hello-universe",
        "io.buildpacks.samples.hello-world",
      ]);
      const diffIDs = Object.values(modules).flatMap((versions) =>
        Object.values(versions).map((v) => v.layerDiffID),
      );
      assert.deepEqual([...diffIDs].sort(), [...config.rootfs.diff_ids].sort());
      assert.equal(
        labels["io.buildpacks.buildpackage.metadata"],
        '{"id":"example/composite","version":"3.0.0","stacks":[{"id":"io.buildpacks.samples.stacks.bionic"},{"id":"io.buildpacks.samples.stacks.alpine"}]}',
      );

      const childA = manifest.layers[0]!;
      const contents: string[] = [];
      for await (const entry of readLayer(await layout.openBlob(childA))) {
        if (entry.path.endsWith("bin/build")) contents.push((await readEntryContent(entry, 1024)).toString());
      }
      assert.deepEqual(contents, [`#!/bin/sh\necho child-a ${arch}\n`]);
    }
  });

  test("a registry image dependency gives the very same package as the .cnb it was pushed from", async () => {
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      `${registry.host}/child-b:2`,
      "--path",
      join(work, "child-b-src"),
      "--publish",
    ]);
    const config = await composite(work, "composite-registry", [
      '[[dependencies]]\nuri = "child-a"',
      `[[dependencies]]\nimage = "${registry.host}/child-b:2"`,
      `[[dependencies]]\nuri = "${fixture("pack/hello-universe.cnb")}"`,
    ]);
    const layout = join(work, "out-registry");
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      "composite",
      "--config",
      config,
      "--output",
      layout,
    ]);
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    assert.equal(top.manifests[0]!.digest, fromCnb.digest);
  });

  test("an order entry no dependency provides is COMPOSITE_DEPENDENCY_MISSING, and nothing is written", async () => {
    const config = await composite(work, "composite-missing", [
      '[[dependencies]]\nuri = "child-a"',
      `[[dependencies]]\nuri = "${fixture("pack/hello-universe.cnb")}"`,
    ]);
    const out = join(work, "out-missing");
    await mkdir(out);
    const outcome = await polypack([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--output",
      join(out, "c.cnb"),
    ]);
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /error\[COMPOSITE_DEPENDENCY_MISSING\]: .*example\/child-b@2\.0\.0/);
    assert.deepEqual(await readdir(out), []);
  });

  test("a dependency without the target's platform is COMPOSITE_PLATFORM_MISSING", async () => {
    await writeTree(
      {
        "buildpack.toml": buildpackToml(targetsToml("linux/amd64"), "example/child-b", "2.0.0"),
        "bin/build": script("echo amd64 only"),
        "bin/detect": script("echo amd64 only"),
      },
      join(work, "amd64-only"),
    );
    await polypackOk([
      "buildpack",
      "package",
      "b",
      "--path",
      join(work, "amd64-only"),
      "--output",
      join(work, "amd64-only.cnb"),
    ]);
    const config = await composite(work, "composite-platform", [
      '[[dependencies]]\nuri = "child-a"',
      '[[dependencies]]\nuri = "amd64-only.cnb"',
      `[[dependencies]]\nuri = "${fixture("pack/hello-universe.cnb")}"`,
    ]);
    const outcome = await polypack([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--output",
      join(work, "never.cnb"),
    ]);
    assert.match(
      outcome.stderr,
      /error\[COMPOSITE_PLATFORM_MISSING\]: .*amd64-only\.cnb has no image for linux\/arm64/,
    );
  });
});
