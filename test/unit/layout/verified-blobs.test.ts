import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rm, stat, truncate, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { copy } from "../../../src/image/copy.js";
import { LayoutSource } from "../../../src/layout/layout-source.js";
import { LayoutTarget } from "../../../src/layout/layout-target.js";
import { OciLayout } from "../../../src/layout/oci-layout.js";
/** The trust margin of src/layout/verified-blobs.ts, written out so this file also runs against older code. */
const TRUST_MARGIN_NS = 2_000_000_000n;
import { descriptorFor, type Descriptor } from "../../../src/oci/descriptor.js";
import { Digest } from "../../../src/oci/digest.js";
import { writeRandomImage } from "../../support/images.js";
import { tempDir } from "../../support/tmp.js";
import { run } from "../../support/tools.js";

/** Flips one byte of a file in place, then puts its mtime back to the nanosecond (GNU touch). */
async function flipKeepingMtime(path: string, at: number): Promise<void> {
  // Kernel timestamps move in ticks of a few ms: make sure the edit lands in a later tick.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = await stat(path, { bigint: true });
  const file = await open(path, "r+");
  const byte = Buffer.alloc(1);
  await file.read(byte, 0, 1, at);
  await file.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, at);
  await file.close();
  const ns = before.mtimeNs % 1_000_000_000n;
  const seconds = before.mtimeNs / 1_000_000_000n;
  await run("touch", ["-m", "-d", `@${seconds}.${ns.toString().padStart(9, "0")}`, path]);
  const after = await stat(path, { bigint: true });
  assert.equal(after.size, before.size);
  assert.equal(after.mtimeNs, before.mtimeNs, "mtime restored");
  assert.notEqual(after.ctimeNs, before.ctimeNs, "ctime moved: no one can set it");
}

async function fileDigest(path: string): Promise<string> {
  return Digest.of(await readFile(path)).toString();
}

/** A source layout with one image, and a destination layout it was copied to (tag v1). */
async function copiedImage(): Promise<{ source: string; destination: string; layer: Descriptor }> {
  const source = await tempDir();
  const image = await writeRandomImage(await LayoutTarget.create(source), {
    layerSizes: [200_000, 5000],
    tag: "v1",
  });
  const destination = await tempDir();
  await copy(await LayoutSource.open(source, "v1"), await LayoutTarget.create(destination), { tags: ["v1"] });
  return { source, destination, layer: image.manifest.layers[0]! };
}

/** Copies the source image into the destination again, tagged `tag`, as a new run would. */
async function recopy(source: string, destination: string, tag: string) {
  return copy(await LayoutSource.open(source, "v1"), await LayoutTarget.create(destination), { tags: [tag] });
}

for (const [damage, harm] of [
  ["deleted", (path: string) => rm(path)],
  ["truncated", (path: string) => truncate(path, 1000)],
  ["changed in place with size and mtime kept", (path: string) => flipKeepingMtime(path, 500)],
] as const) {
  test(`a layer blob ${damage} in a destination layout is restored before the next tag`, async () => {
    const { source, destination, layer } = await copiedImage();
    const path = join(destination, "blobs", "sha256", Digest.parse(layer.digest).hex);
    await harm(path);
    const report = await recopy(source, destination, "v2");
    assert.equal(report.upToDate, false, "the damage was noticed");
    assert.equal(report.blobs.uploaded, 1);
    assert.equal(await fileDigest(path), layer.digest, "the blob holds its bytes again");
    const refs = (await (await OciLayout.open(destination)).readIndex()).manifests.map(
      (m) => m.annotations?.["org.opencontainers.image.ref.name"],
    );
    assert.deepEqual(refs, ["v1", "v2"]);
  });
}

test("a blob file that is only a same-sized stranger is not present, and putBlob replaces it", async () => {
  const dir = await tempDir();
  const layout = await OciLayout.create(dir);
  const bytes = randomBytes(3000);
  const descriptor = descriptorFor("application/octet-stream", bytes);
  await mkdir(dirname(layout.blobPath(descriptor.digest)), { recursive: true });
  await writeFile(layout.blobPath(descriptor.digest), randomBytes(3000));
  assert.equal(await layout.hasBlob(descriptor), false);
  assert.equal(await layout.putBlob(descriptor, () => Promise.resolve(Readable.from([bytes]))), "uploaded");
  assert.deepEqual(await readFile(layout.blobPath(descriptor.digest)), bytes);
  assert.equal(await layout.hasBlob(descriptor), true);
});

/**
 * A layout this process has not looked at yet, holding `content` under the digest of `bytes`, and
 * a state file that says polypack verified the file as it is now, `margin` after its ctime.
 */
async function layoutWithRecord(bytes: Buffer, content: Buffer, marginNs: bigint) {
  const dir = await tempDir();
  const descriptor = descriptorFor("application/octet-stream", bytes);
  const path = join(dir, "blobs", "sha256", Digest.parse(descriptor.digest).hex);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, "index.json"), '{"schemaVersion":2,"manifests":[]}');
  const info = await stat(path, { bigint: true });
  const record = {
    dev: info.dev.toString(),
    ino: info.ino.toString(),
    size: info.size.toString(),
    mtimeNs: info.mtimeNs.toString(),
    ctimeNs: info.ctimeNs.toString(),
    recordedNs: (info.ctimeNs + marginNs).toString(),
  };
  await mkdir(join(dir, ".polypack"));
  await writeFile(
    join(dir, ".polypack", "verified.json"),
    JSON.stringify({ version: 1, blobs: { [descriptor.digest]: record } }),
  );
  return { layout: await OciLayout.open(dir), descriptor, path };
}

test("a recorded identity is trusted without hashing; a changed ctime is noticed", async () => {
  const bytes = randomBytes(4000);
  // The file does not hold the blob, yet the record vouches for it: hasBlob must believe the
  // record (the file is not read), which shows that trusted files cost a stat and nothing more.
  const stranger = Buffer.from(bytes);
  stranger[10] = stranger[10]! ^ 1;
  const { layout, descriptor, path } = await layoutWithRecord(bytes, stranger, TRUST_MARGIN_NS + 1_000_000n);
  assert.equal(await layout.hasBlob(descriptor), true);
  // utimes leaves size and mtime as they were but moves ctime, which no one can set back.
  const info = await stat(path);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await utimes(path, info.atime, info.mtime);
  assert.equal(await layout.hasBlob(descriptor), false, "hashed again, and found wrong");
});

test("a record made within the trust margin of the file's ctime is not trusted", async () => {
  const bytes = randomBytes(4000);
  const stranger = Buffer.from(bytes);
  stranger[10] = stranger[10]! ^ 1;
  const { layout, descriptor } = await layoutWithRecord(bytes, stranger, TRUST_MARGIN_NS - 1_000_000n);
  assert.equal(await layout.hasBlob(descriptor), false);
});

test("blobs written and hashed are recorded in .polypack/verified.json when the layout is tagged", async () => {
  const dir = await tempDir();
  const image = await writeRandomImage(await LayoutTarget.create(dir), { layerSizes: [100], tag: "x" });
  const state = JSON.parse(await readFile(join(dir, ".polypack", "verified.json"), "utf8")) as {
    version: number;
    blobs: Record<string, { ino: string; ctimeNs: string; recordedNs: string }>;
  };
  assert.equal(state.version, 1);
  const layer = image.manifest.layers[0]!.digest;
  const info = await stat(join(dir, "blobs", "sha256", Digest.parse(layer).hex), { bigint: true });
  assert.equal(state.blobs[layer]?.ino, info.ino.toString());
  assert.ok(state.blobs[image.descriptor.digest], "manifests too");
});
