import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { readLayer } from "../../../src/layer/read-layer.js";
import { LayoutSource } from "../../../src/layout/layout-source.js";
import { LayoutTarget } from "../../../src/layout/layout-target.js";
import { OciLayout } from "../../../src/layout/oci-layout.js";
import { descriptorFor, REF_NAME_ANNOTATION } from "../../../src/oci/descriptor.js";
import { Digest } from "../../../src/oci/digest.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { writeRandomImage, writeRandomIndex } from "../../support/images.js";
import { tempDir } from "../../support/tmp.js";

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const code = (expected: ErrorCode) => (error: unknown) => isPolypackError(error, expected);

test("create writes oci-layout and an empty index.json; open reads them back", async () => {
  const dir = join(await tempDir(), "layout");
  await OciLayout.create(dir);
  assert.deepEqual(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8")), {
    imageLayoutVersion: "1.0.0",
  });
  const layout = await OciLayout.open(dir);
  assert.deepEqual((await layout.readIndex()).manifests, []);
});

test("round trip: a multi-arch index written to a layout reads back blob for blob", async () => {
  const dir = await tempDir();
  const written = await writeRandomIndex(await LayoutTarget.create(dir), {
    platforms: ["linux/amd64", "linux/arm64"],
    layerSizes: [3000, 100],
    tag: "v1",
  });
  const source = await LayoutSource.open(dir, "v1");
  const root = await source.resolve();
  assert.equal(root.digest, written.descriptor.digest);
  assert.equal(root.annotations, undefined, "the layout's ref name is not part of the image");
  const index = parseManifest(await source.fetchManifest(root), root.mediaType, "test");
  assert.equal(index.kind, "index");
  if (index.kind !== "index") return;
  assert.deepEqual(
    index.index.manifests.map((child) => `${child.platform?.os}/${child.platform?.architecture}`),
    ["linux/amd64", "linux/arm64"],
  );
  for (const [i, child] of index.index.manifests.entries()) {
    const image = parseManifest(await source.fetchManifest(child), child.mediaType, "test");
    if (image.kind !== "image") assert.fail("expected an image manifest");
    const config = JSON.parse((await drain(await source.openBlob(image.manifest.config))).toString());
    assert.deepEqual(
      config.rootfs.diff_ids,
      written.images[i]!.layers.map((layer) => layer.diffID),
    );
    for (const layer of image.manifest.layers) {
      const blob = await drain(await source.openBlob(layer));
      assert.equal(Digest.of(blob).toString(), layer.digest);
    }
    const files = [];
    for await (const entry of readLayer(await source.openBlob(image.manifest.layers[0]!))) {
      files.push([entry.path, entry.size]);
    }
    assert.deepEqual(files[1], [`random/${child.platform!.os}-${child.platform!.architecture}-0.bin`, 3000]);
  }
});

test("an existing blob is reused: open is never called and the file is not rewritten", async () => {
  const dir = await tempDir();
  const layout = await OciLayout.create(dir);
  const bytes = Buffer.from("hello blob");
  const descriptor = descriptorFor("application/octet-stream", bytes);
  assert.equal(await layout.putBlob(descriptor, () => Promise.resolve(Readable.from([bytes]))), "uploaded");
  const before = await stat(layout.blobPath(descriptor.digest));
  const again = await layout.putBlob(descriptor, () => assert.fail("must not open a present blob"));
  assert.equal(again, "exists");
  const after = await stat(layout.blobPath(descriptor.digest));
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
});

test("a blob that does not match its descriptor is refused and leaves no file behind", async () => {
  const dir = await tempDir();
  const layout = await OciLayout.create(dir);
  const descriptor = descriptorFor("application/octet-stream", Buffer.from("expected"));
  await assert.rejects(
    layout.putBlob(descriptor, () => Promise.resolve(Readable.from([Buffer.from("imposter")]))),
    code("DIGEST_MISMATCH"),
  );
  await assert.rejects(
    layout.putBlob(descriptor, () => Promise.resolve(Readable.from([Buffer.from("too long for it")]))),
    code("SIZE_MISMATCH"),
  );
  assert.deepEqual(await readdir(join(dir, "blobs", "sha256")), []);
});

test("a corrupted blob on disk fails its reader with DIGEST_MISMATCH", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const image = await writeRandomImage(target, { tag: "x" });
  const layer = image.layers[0]!.descriptor;
  const path = target.layout.blobPath(layer.digest);
  const bytes = await readFile(path);
  const at = bytes.length - 10;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  await writeFile(path, bytes);
  const source = await LayoutSource.open(dir, "x");
  await assert.rejects(drain(await source.openBlob(layer)), code("DIGEST_MISMATCH"));
  await writeFile(target.layout.blobPath(image.descriptor.digest), "{}");
  await assert.rejects(
    source.fetchManifest(image.descriptor),
    (error) => isPolypackError(error, "SIZE_MISMATCH") || isPolypackError(error, "DIGEST_MISMATCH"),
  );
  const huge = { ...image.descriptor, size: MAX_MANIFEST_BYTES + 1 };
  await assert.rejects(source.fetchManifest(huge), code("SIZE_EXCEEDED"));
});

test("index.json updates are atomic and none is lost when they overlap", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const image = await writeRandomImage(target, {});
  let reads = 0;
  let updating = true;
  const reader = (async () => {
    while (updating) {
      JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
      reads++;
    }
  })();
  await Promise.all(Array.from({ length: 25 }, (_, i) => target.tag(image.descriptor, [`tag-${i}`])));
  updating = false;
  await reader;
  assert.ok(reads > 0);
  const { manifests } = await target.layout.readIndex();
  assert.equal(manifests.length, 25);
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [".polypack", "blobs", "index.json", "oci-layout"],
    "no temporary files are left behind",
  );
  assert.deepEqual(await readdir(join(dir, ".polypack")), ["verified.json"], "no lock file is left behind");
});

test("tagging an existing ref replaces that entry in place; other images stay", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const first = await writeRandomImage(target, { seed: "one", tag: "latest" });
  await writeRandomImage(target, { seed: "two", tag: "other" });
  const third = await writeRandomImage(target, { seed: "three", tag: "latest" });
  const { manifests } = await target.layout.readIndex();
  assert.deepEqual(
    manifests.map((entry) => [
      entry.annotations?.[REF_NAME_ANNOTATION],
      entry.digest === third.descriptor.digest,
    ]),
    [
      ["latest", true],
      ["other", false],
    ],
  );
  assert.ok(await target.layout.hasBlob(first.descriptor), "the replaced image's blobs stay");
  await assert.rejects(
    target.tag({ ...first.descriptor, digest: Digest.of("absent").toString() }, ["x"]),
    code("BLOB_NOT_FOUND"),
  );
});

test("without a tag, commit names the root manifest latest", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const written = await writeRandomIndex(target, { platforms: ["linux/amd64", "linux/s390x"] });
  await target.commit();
  const { manifests } = await target.layout.readIndex();
  assert.deepEqual(manifests, [
    {
      mediaType: MediaType.ociIndex,
      digest: written.descriptor.digest,
      size: written.descriptor.size,
      annotations: { [REF_NAME_ANNOTATION]: "latest" },
    },
  ]);
  assert.equal((await (await LayoutSource.open(dir)).resolve()).digest, written.descriptor.digest);
});

test("malformed layouts fail with typed errors that name the path", async () => {
  const root = await tempDir();
  await assert.rejects(OciLayout.open(join(root, "missing")), code("PATH_NOT_FOUND"));

  const noMarker = join(root, "no-marker");
  await mkdir(noMarker);
  await writeFile(join(noMarker, "index.json"), '{"schemaVersion":2,"manifests":[]}');
  await assert.rejects(
    OciLayout.open(noMarker),
    (error) => isPolypackError(error, "LAYOUT_INVALID") && error.message.includes(noMarker),
  );

  const badVersion = join(root, "bad-version");
  await mkdir(badVersion);
  await writeFile(join(badVersion, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
  await assert.rejects(OciLayout.open(badVersion), code("LAYOUT_INVALID"));

  for (const [name, index] of [
    ["bad-json", "{nope"],
    ["no-index", undefined],
    [
      "bad-digest",
      '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../etc","size":1}]}',
    ],
    [
      "bad-size",
      `{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"${Digest.of("").toString()}","size":-1}]}`,
    ],
  ] as const) {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    if (index !== undefined) await writeFile(join(dir, "index.json"), index);
    await assert.rejects(
      OciLayout.open(dir),
      (error) => isPolypackError(error, "LAYOUT_INVALID") && error.message.includes(dir),
      name,
    );
  }

  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const image = await writeRandomImage(target, { tag: "a" });
  await writeRandomImage(target, { tag: "b", seed: "b" });
  const source = await LayoutSource.open(dir, "a");
  const missing = { ...image.layers[0]!.descriptor, digest: Digest.of("not there").toString() };
  await assert.rejects(
    source.openBlob(missing),
    (error) => isPolypackError(error, "BLOB_NOT_FOUND") && error.message.includes(dir),
  );
  await assert.rejects(
    (await LayoutSource.open(dir, "c")).resolve(),
    (error) => isPolypackError(error, "REF_NOT_FOUND") && error.hint.includes("a, b"),
  );
  await assert.rejects((await LayoutSource.open(dir)).resolve(), code("REF_REQUIRED"));
});
