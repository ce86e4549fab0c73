import assert from "node:assert/strict";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { test } from "node:test";
import { pack } from "tar-stream";
import { readEntryContent, readLayer } from "../../../src/layer/read-layer.js";
import { CnbSource } from "../../../src/layout/cnb-source.js";
import { parseImageConfig, parseManifest } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { verifyingStream } from "../../../src/oci/verify.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { tempDir } from "../../support/tmp.js";
import { fixture } from "../../support/fixtures.js";

const fixtures = dirname(fixture("pack/hello-universe.cnb"));

interface ModuleInfo {
  layerDiffID: string;
}

/** Reads a buildpackage the way a platform would: manifest, config labels, then each module's layer. */
async function readBuildpackage(path: string, layersLabel: string) {
  const source = await CnbSource.open(path);
  const root = await source.resolve();
  const parsed = parseManifest(await source.fetchManifest(root), root.mediaType, path);
  if (parsed.kind !== "image") assert.fail("expected an image manifest");
  const config = parseImageConfig(await source.fetchManifest(parsed.manifest.config), path);
  const labels = config.config?.Labels ?? {};
  const modules = JSON.parse(labels[layersLabel]!) as Record<string, Record<string, ModuleInfo>>;
  const files = new Map<string, string>();
  for (const [id, versions] of Object.entries(modules)) {
    for (const [version, info] of Object.entries(versions)) {
      const at = config.rootfs.diff_ids.indexOf(info.layerDiffID);
      assert.ok(at >= 0, `${id}@${version} has its layer in rootfs`);
      const layer = parsed.manifest.layers[at]!;
      const tap = verifyingStream({}, "layer tar");
      pipeline(await source.openBlob(layer), createGunzip(), tap, () => undefined);
      for await (const entry of readLayer(tap, { compression: "none" })) {
        if (entry.type === "file") files.set(entry.name, (await readEntryContent(entry, 1 << 20)).toString());
      }
      assert.equal(tap.digest().toString(), info.layerDiffID, `${id}@${version} layer matches its diffID`);
    }
  }
  return { root, manifest: parsed.manifest, labels, files };
}

test("reads pack's hello-universe.cnb: Docker media types, absolute names, three buildpack layers", async () => {
  const read = await readBuildpackage(join(fixtures, "hello-universe.cnb"), "io.buildpacks.buildpack.layers");
  assert.equal(read.root.mediaType, MediaType.dockerManifest);
  assert.equal(read.manifest.layers.length, 3);
  const metadata = JSON.parse(read.labels["io.buildpacks.buildpackage.metadata"]!);
  assert.equal(metadata.id, "io.buildpacks.samples.hello-universe");
  assert.match(
    read.files.get("/cnb/buildpacks/io.buildpacks.samples.hello-moon/0.0.1/buildpack.toml")!,
    /hello-moon/,
  );
  assert.ok(read.files.has("/cnb/buildpacks/io.buildpacks.samples.hello-world/0.0.1/bin/build"));
  assert.ok(read.files.has("/cnb/buildpacks/io.buildpacks.samples.hello-universe/0.0.1/buildpack.toml"));
});

test("reads hello-universe-oci.cnb (relative names, OCI media types) to the same buildpacks", async () => {
  const oci = await readBuildpackage(
    join(fixtures, "hello-universe-oci.cnb"),
    "io.buildpacks.buildpack.layers",
  );
  const docker = await readBuildpackage(
    join(fixtures, "hello-universe.cnb"),
    "io.buildpacks.buildpack.layers",
  );
  assert.equal(oci.root.mediaType, MediaType.ociManifest);
  assert.deepEqual(
    JSON.parse(oci.labels["io.buildpacks.buildpack.layers"]!),
    JSON.parse(docker.labels["io.buildpacks.buildpack.layers"]!),
  );
  assert.deepEqual([...oci.files.keys()].sort(), [...docker.files.keys()].sort());
});

test("reads pack's tree-extension.cnb through its extension labels", async () => {
  const read = await readBuildpackage(join(fixtures, "tree-extension.cnb"), "io.buildpacks.extension.layers");
  assert.match(read.files.get("/cnb/extensions/samples-tree/0.0.1/extension.toml")!, /samples-tree/);
  assert.ok(read.files.has("/cnb/extensions/samples-tree/0.0.1/bin/generate"));
});

test("a corrupted blob inside a .cnb fails with DIGEST_MISMATCH when read", async () => {
  const copy = join(await tempDir(), "corrupt.cnb");
  await copyFile(join(fixtures, "hello-universe.cnb"), copy);
  const source = await CnbSource.open(copy);
  const manifest = parseManifest(await source.fetchManifest(await source.resolve()), undefined, copy);
  if (manifest.kind !== "image") assert.fail("expected an image");
  const layer = manifest.manifest.layers[0]!;
  let offset = -1;
  for await (const entry of readLayer(Readable.from([await readFile(copy)]))) {
    if (entry.path === `blobs/sha256/${layer.digest.slice("sha256:".length)}`) offset = entry.dataOffset;
  }
  const bytes = await readFile(copy);
  bytes.writeUInt8(bytes.readUInt8(offset + 100) ^ 0xff, offset + 100);
  await writeFile(copy, bytes);
  const reopened = await CnbSource.open(copy);
  await assert.rejects(
    async () => {
      for await (const _chunk of await reopened.openBlob(layer));
    },
    (error) => isPolypackError(error, "DIGEST_MISMATCH"),
  );
});

async function tarFile(path: string, members: [string, string][]): Promise<void> {
  const archive = pack();
  for (const [name, content] of members) archive.entry({ name }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  await writeFile(path, Buffer.concat(chunks));
}

test("refuses archives with escaping paths, without a layout, or that are not tars", async () => {
  const dir = await tempDir();
  const layoutFiles: [string, string][] = [
    ["oci-layout", '{"imageLayoutVersion":"1.0.0"}'],
    ["index.json", '{"schemaVersion":2,"manifests":[]}'],
  ];
  await tarFile(join(dir, "escape.cnb"), [...layoutFiles, ["blobs/../../evil", "x"]]);
  await assert.rejects(CnbSource.open(join(dir, "escape.cnb")), (error) =>
    isPolypackError(error, "PATH_ESCAPE"),
  );
  await tarFile(join(dir, "no-layout.cnb"), [["index.json", "{}"]]);
  await assert.rejects(CnbSource.open(join(dir, "no-layout.cnb")), (error) =>
    isPolypackError(error, "LAYOUT_INVALID"),
  );
  await tarFile(join(dir, "twice.cnb"), [...layoutFiles, ["/index.json", "{}"]]);
  await assert.rejects(CnbSource.open(join(dir, "twice.cnb")), (error) =>
    isPolypackError(error, "LAYOUT_INVALID"),
  );
  await writeFile(join(dir, "garbage.cnb"), Buffer.alloc(4096, 0x42));
  await assert.rejects(CnbSource.open(join(dir, "garbage.cnb")), (error) =>
    isPolypackError(error, "LAYOUT_INVALID"),
  );
  await assert.rejects(CnbSource.open(join(dir, "missing.cnb")), (error) =>
    isPolypackError(error, "PATH_NOT_FOUND"),
  );
  await tarFile(join(dir, "empty.cnb"), layoutFiles);
  await assert.rejects((await CnbSource.open(join(dir, "empty.cnb"))).resolve(), (error) =>
    isPolypackError(error, "IMAGE_NOT_FOUND"),
  );
});
