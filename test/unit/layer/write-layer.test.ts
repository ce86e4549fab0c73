import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform, Writable } from "node:stream";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { GZIP_OS_UNKNOWN, gzipHeaderNormalizer } from "../../../src/layer/gzip.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import { writeLayer, writeLayerFile } from "../../../src/layer/write-layer.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { tempDir } from "../../support/tmp.js";
import { pseudoRandomStream } from "../../support/images.js";
import { run } from "../../support/tools.js";

const entries = (): LayerEntry[] => [
  { path: "cnb/buildpacks/x", type: "directory" },
  { path: "cnb/buildpacks/x/1.0", type: "directory" },
  { path: "cnb/buildpacks/x/1.0/buildpack.toml", type: "file", content: '[buildpack]\nid = "x"\n' },
];

const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

test("diffID, digest and size match independent hashes of the written file", async () => {
  const dir = await tempDir();
  const path = join(dir, "layer.tar.gz");
  const layer = await writeLayerFile(entries(), path);
  const blob = await readFile(path);
  assert.equal(layer.descriptor.mediaType, MediaType.ociLayerGzip);
  assert.equal(layer.descriptor.size, blob.length);
  assert.equal(layer.descriptor.digest, sha256(blob));
  assert.equal(layer.diffID, sha256(gunzipSync(blob)));
  assert.equal(layer.uncompressedSize, gunzipSync(blob).length);
  // The same facts checked by programs that share no code with polypack.
  assert.equal(`sha256:${(await run("sha256sum", [path])).split(" ")[0]}`, layer.descriptor.digest);
  const unzipped = await run("sh", ["-c", 'zcat "$1" | sha256sum', "sh", path]);
  assert.equal(`sha256:${unzipped.split(" ")[0]}`, layer.diffID);
});

test("the gzip header is the same on every platform: OS byte 255, MTIME 0", async () => {
  const dir = await tempDir();
  const path = join(dir, "layer.tar.gz");
  await writeLayerFile(entries(), path);
  const header = (await readFile(path)).subarray(0, 10);
  assert.deepEqual([...header.subarray(0, 3)], [0x1f, 0x8b, 8]);
  assert.equal(header.readUInt32LE(4), 0, "MTIME");
  assert.equal(header[9], GZIP_OS_UNKNOWN);
});

test("the OS byte is fixed even when the gzip header arrives one byte at a time", async () => {
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xaa, 0xbb]);
  const out: Buffer[] = [];
  const normalizer = gzipHeaderNormalizer();
  normalizer.on("data", (chunk: Buffer) => out.push(chunk));
  for (const byte of header) normalizer.write(Buffer.from([byte]));
  normalizer.end();
  await new Promise((resolve) => normalizer.on("end", resolve));
  const result = Buffer.concat(out);
  assert.equal(result[9], GZIP_OS_UNKNOWN);
  assert.deepEqual(
    [...result.subarray(0, 9), ...result.subarray(10)],
    [...header.subarray(0, 9), ...header.subarray(10)],
  );
  assert.equal(header[9], 3, "the input buffer is not modified");
});

test("how content is chunked on the way in does not change the blob", async () => {
  const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(300_000, 7)]);
  const digests = new Set<string>();
  for (const pieceSize of [1000, 4096, 65_536, data.length]) {
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length; at += pieceSize) pieces.push(data.subarray(at, at + pieceSize));
    const layer = await writeLayer(
      [{ path: "f", type: "file", size: data.length, open: () => Readable.from(pieces) }],
      new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    );
    digests.add(layer.descriptor.digest);
  }
  assert.equal(digests.size, 1);
});

test("levels change the blob but not the diffID; Docker and uncompressed layers get their media types", async () => {
  const sink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const fast = await writeLayer(entries(), sink(), { compressionLevel: 1 });
  const best = await writeLayer(entries(), sink(), { compressionLevel: 9 });
  assert.equal(fast.diffID, best.diffID);
  assert.notEqual(fast.descriptor.digest, best.descriptor.digest);
  const docker = await writeLayer(entries(), sink(), { mediaTypes: "docker" });
  assert.equal(docker.descriptor.mediaType, MediaType.dockerLayerGzip);
  const plain = await writeLayer(entries(), sink(), { compression: "none" });
  assert.equal(plain.descriptor.mediaType, MediaType.ociLayer);
  assert.equal(plain.descriptor.digest, plain.diffID);
  assert.equal(plain.descriptor.size, plain.uncompressedSize);
  await assert.rejects(writeLayer(entries(), sink(), { compressionLevel: 10 }), (error) =>
    isPolypackError(error, "COMPRESSION_LEVEL_INVALID"),
  );
  await assert.rejects(
    writeLayer(entries(), sink(), { compression: "none", mediaTypes: "docker" }),
    (error) => isPolypackError(error, "LAYER_OPTIONS_INVALID"),
  );
});

test("a 64 MiB file generated lazily streams through with bounded buffering and the right hashes", async () => {
  const size = 64 * 1024 * 1024;
  let produced = 0;
  let blobBytes = 0;
  let maxLead = 0;
  const open = (): Readable =>
    pseudoRandomStream("big", size).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          produced += chunk.length;
          maxLead = Math.max(maxLead, produced - blobBytes);
          callback(null, chunk);
        },
      }),
    );
  const layer = await writeLayer(
    [{ path: "big.bin", type: "file", size, open }],
    new Writable({
      highWaterMark: 64 * 1024,
      write(data: Buffer, _encoding, callback) {
        blobBytes += data.length;
        setImmediate(callback);
      },
    }),
    // Level 0 keeps the test fast on slow machines; the data still goes through zlib.
    { compressionLevel: 0, parallelism: 2, memberSize: 1024 * 1024 },
  );
  assert.equal(produced, size);
  assert.equal(layer.descriptor.size, blobBytes);
  // Random data does not compress, so the generator can only run ahead of the slow sink by the
  // members in flight (parallelism + 1), the one being filled and the stream buffers; without
  // backpressure it would race through all 64 MiB.
  assert.ok(maxLead < 5 * 1024 * 1024, `generator ran ${maxLead} bytes ahead of the sink`);
  const tarHash = createHash("sha256");
  produced = 0;
  for await (const piece of tarStream([{ path: "big.bin", type: "file", size, open }])) tarHash.update(piece);
  assert.equal(`sha256:${tarHash.digest("hex")}`, layer.diffID);
});

test("writeLayerFile leaves nothing behind when writing fails", async () => {
  const dir = await tempDir();
  const path = join(dir, "broken.tar.gz");
  const bad: LayerEntry = { path: "f", type: "file", size: 10, open: () => Readable.from([Buffer.alloc(3)]) };
  await assert.rejects(writeLayerFile([bad], path), (error) => isPolypackError(error, "LAYER_SIZE_MISMATCH"));
  assert.deepEqual(await run("ls", ["-A", dir]), "");
});

test("the written blob reads back with the same entries", async () => {
  const dir = await tempDir();
  const path = join(dir, "layer.tar.gz");
  await writeLayerFile(entries(), path, { absoluteNames: true });
  const names = [];
  for await (const entry of readLayer(Readable.from([await readFile(path)]))) names.push(entry.name);
  assert.deepEqual(names, [
    "/cnb/buildpacks/x",
    "/cnb/buildpacks/x/1.0",
    "/cnb/buildpacks/x/1.0/buildpack.toml",
  ]);
});
