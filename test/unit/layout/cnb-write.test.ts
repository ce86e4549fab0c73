import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readEntryContent, readLayer } from "../../../src/layer/read-layer.js";
import { CnbArchive } from "../../../src/layout/cnb-archive.js";
import { CnbSource } from "../../../src/layout/cnb-source.js";
import { CnbTarget } from "../../../src/layout/cnb-target.js";
import { REF_NAME_ANNOTATION } from "../../../src/oci/descriptor.js";
import { Digest } from "../../../src/oci/digest.js";
import { parseManifest } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { Platform } from "../../../src/oci/platform.js";
import { writeRandomImage, writeRandomIndex } from "../../support/images.js";
import { packFirstManifest } from "../../support/pack-reader.js";
import { tempDir } from "../../support/tmp.js";

test("a single-platform .cnb is written like pack's and reads back", async () => {
  const dir = await tempDir();
  const path = join(dir, "bp.cnb");
  const target = await CnbTarget.create(path);
  const image = await writeRandomImage(target, {
    mediaTypes: "docker",
    layerSizes: [500, 700],
    tag: "latest",
  });
  await assert.rejects(readFile(path), "nothing at the output before commit");
  await target.commit();
  assert.deepEqual(await readdir(dir), ["bp.cnb"], "no temporary files or folders are left");

  const members = [];
  for await (const entry of readLayer(createReadStream(path), { compression: "none" })) {
    members.push(entry.name);
    assert.equal(entry.mode, 0o755);
    assert.equal(entry.uid, 0);
    assert.equal(entry.gid, 0);
    assert.equal(entry.mtime.toISOString(), "1980-01-01T00:00:01.000Z");
    if (entry.name === "/oci-layout") {
      assert.deepEqual(JSON.parse((await readEntryContent(entry, 100)).toString()), {
        imageLayoutVersion: "1.0.0",
      });
    }
  }
  assert.deepEqual(members.slice(0, 2), ["/blobs", "/blobs/sha256"]);
  assert.deepEqual(members.slice(-2), ["/index.json", "/oci-layout"]);
  assert.equal(members.length, 2 + 4 + 2, "two layers, a config and a manifest");

  const source = await CnbSource.open(path);
  const root = await source.resolve();
  assert.equal(root.digest, image.descriptor.digest);
  assert.equal(root.mediaType, MediaType.dockerManifest);
  const index = await (await CnbArchive.open(path)).readIndex();
  assert.equal(packFirstManifest(index.manifests)?.digest, image.descriptor.digest, "pack finds the image");
  assert.equal(index.manifests[0]?.annotations?.[REF_NAME_ANNOTATION], "latest");
});

test("the same content gives a byte-identical .cnb on every run", async () => {
  const dir = await tempDir();
  const digests = new Set<string>();
  for (const name of ["one.cnb", "two.cnb"]) {
    const target = await CnbTarget.create(join(dir, name));
    await writeRandomIndex(target, {
      platforms: ["linux/amd64", "linux/arm64"],
      layerSizes: [300],
      tag: "v1",
    });
    await target.commit();
    digests.add(Digest.of(await readFile(join(dir, name))).toString());
  }
  assert.equal(digests.size, 1);
});

test("abort removes the work and leaves an existing output untouched", async () => {
  const dir = await tempDir();
  const path = join(dir, "keep.cnb");
  await writeFile(path, "previous release");
  const target = await CnbTarget.create(path);
  await writeRandomImage(target, { tag: "x" });
  assert.equal((await readdir(dir)).length, 2, "the work folder sits beside the output");
  await target.abort();
  assert.deepEqual(await readdir(dir), ["keep.cnb"]);
  assert.equal(await readFile(path, "utf8"), "previous release");
});

test("a multi-arch .cnb: skopeo's named index, plus the manifest pack reads", async () => {
  const dir = await tempDir();
  const path = join(dir, "multi.cnb");
  const target = await CnbTarget.create(path);
  const written = await writeRandomIndex(target, {
    platforms: ["linux/arm64", "linux/amd64", "linux/arm/v7"],
    layerSizes: [200],
    tag: "latest",
  });
  await target.commit();

  const { manifests } = await (await CnbArchive.open(path)).readIndex();
  assert.equal(manifests.length, 2);
  assert.equal(manifests[0]!.mediaType, MediaType.ociIndex);
  assert.equal(manifests[0]!.digest, written.descriptor.digest);
  assert.equal(manifests[0]!.annotations?.[REF_NAME_ANNOTATION], "latest");
  const amd64 = written.images.find((image) => image.platform.architecture === "amd64")!;
  const packReads = packFirstManifest(manifests);
  assert.equal(packReads?.digest, amd64.descriptor.digest, "pack takes linux/amd64, not the first child");
  assert.equal(packReads?.annotations, undefined, "the extra entry has no ref name");

  // pack then reads the manifest and its config straight from the archive.
  const source = await CnbSource.open(path);
  const image = parseManifest(await source.fetchManifest(packReads), packReads.mediaType, path);
  if (image.kind !== "image") assert.fail("expected an image manifest");
  const config = JSON.parse((await source.fetchManifest(image.manifest.config)).toString());
  assert.equal(config.architecture, "amd64");

  for (const ref of [undefined, "latest"]) {
    assert.equal((await (await CnbSource.open(path, ref)).resolve()).digest, written.descriptor.digest);
  }
});

test("packPlatform chooses the manifest pack reads; an untagged root is named latest", async () => {
  const path = join(await tempDir(), "v7.cnb");
  const target = await CnbTarget.create(path, { packPlatform: Platform.parse("linux/arm/v7") });
  const written = await writeRandomIndex(target, {
    platforms: ["linux/amd64", "linux/arm/v7"],
    layerSizes: [10],
  });
  await target.commit();
  const { manifests } = await (await CnbArchive.open(path)).readIndex();
  assert.deepEqual(manifests[0], {
    mediaType: MediaType.ociIndex,
    digest: written.descriptor.digest,
    size: written.descriptor.size,
    annotations: { [REF_NAME_ANNOTATION]: "latest" },
  });
  const v7 = written.images.find((image) => image.platform.variant === "v7")!;
  assert.equal(packFirstManifest(manifests)?.digest, v7.descriptor.digest);
  assert.equal((await (await CnbSource.open(path)).resolve()).digest, written.descriptor.digest);
});
