import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { crc32, gunzipSync, inflateRawSync } from "node:zlib";
import { collectDirectory } from "../../../src/layer/collect.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import {
  createLayerGzip,
  gzipHeaderNormalizer,
  gzipMember,
  looksIncompressible,
  storedMember,
} from "../../../src/layer/gzip.js";
import { cacheKey, MemberCache } from "../../../src/layer/member-cache.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { tarStream, type TarOptions } from "../../../src/layer/tar-writer.js";
import { writeLayer, writeLayerFile, type LayerOptions } from "../../../src/layer/write-layer.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { pseudoRandomStream } from "../../support/images.js";
import { layerBytes } from "../../support/layer-bytes.js";
import { tempDir } from "../../support/tmp.js";
import { quick } from "../../support/tools.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** A small cut, so that a few MiB of fixture make many segments and members. */
const SMALL_CUT = { segmentThreshold: 256 * KiB, memberSize: 256 * KiB };

const sha256 = (data: Uint8Array): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A buildpack-like folder: scripts, a compressible file, two dependency archives. */
async function fixtureDir(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, "bin"));
  await mkdir(join(dir, "deps"));
  await writeFile(join(dir, "buildpack.toml"), 'api = "0.10"\n[buildpack]\nid = "x"\n');
  for (let i = 0; i < 40; i++) {
    await pipeline(
      pseudoRandomStream(`tool-${i}`, 3000 + i * 997),
      createWriteStream(join(dir, "bin", `tool-${i}`)),
    );
  }
  await writeFile(join(dir, "bin", "notes.txt"), "all work and no play\n".repeat(40_000));
  await pipeline(
    pseudoRandomStream("big", 1536 * KiB + 123),
    createWriteStream(join(dir, "deps", "big.tgz")),
  );
  await pipeline(pseudoRandomStream("mid", 400 * KiB), createWriteStream(join(dir, "deps", "mid.tgz")));
  return dir;
}

const collect = (dir: string): Promise<LayerEntry[]> =>
  collectDirectory(dir, { prefix: "/cnb/buildpacks/x/1.0" });

/** The layer as written before multi-member support: one zlib stream over the whole tar. */
async function singleStreamLayer(entries: LayerEntry[], options: TarOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from(tarStream(entries, options)),
    createLayerGzip(6),
    gzipHeaderNormalizer(),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks);
}

async function tarBytes(entries: LayerEntry[], options: TarOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, options)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Splits a blob into its gzip members by inflating each member's deflate data on its own. */
function splitMembers(blob: Buffer): { header: Buffer; inflated: Buffer; bytes: number }[] {
  const members = [];
  let at = 0;
  while (at < blob.length) {
    const header = blob.subarray(at, at + 10);
    assert.deepEqual([...header.subarray(0, 4)], [0x1f, 0x8b, 8, 0], "plain gzip header, no FLG bits");
    const { buffer, engine } = inflateRawSync(blob.subarray(at + 10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    const end = at + 10 + engine.bytesWritten + 8;
    const trailer = blob.subarray(end - 8, end);
    assert.equal(trailer.readUInt32LE(0), crc32(buffer) >>> 0, "CRC-32 of the member's content");
    assert.equal(trailer.readUInt32LE(4), buffer.length, "ISIZE of the member's content");
    members.push({ header, inflated: buffer, bytes: end - at });
    at = end;
  }
  return members;
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir, { recursive: true })) {
    if ((await stat(join(dir, name))).isFile()) found.push(name);
  }
  return found.sort();
}

test("the tar inside is the single-pass tar: same diffID as the single-member writer, whatever the cut", async () => {
  const entries = await collect(await fixtureDir());
  const tar = await tarBytes(entries);
  const reference = await singleStreamLayer(entries);
  for (const cut of [
    {},
    SMALL_CUT,
    { segmentThreshold: 0, memberSize: 64 * KiB },
    { segmentThreshold: Infinity },
  ]) {
    const { layer, blob } = await layerBytes(entries, cut);
    assert.equal(layer.diffID, sha256(tar), JSON.stringify(cut));
    assert.equal(layer.diffID, sha256(gunzipSync(reference)));
    assert.equal(layer.uncompressedSize, tar.length);
    assert.ok(gunzipSync(blob).equals(tar), "Node's gunzip reads every member");
    assert.equal(layer.descriptor.digest, sha256(blob));
    assert.equal(layer.descriptor.size, blob.length);
  }
});

test("a layer smaller than the threshold is one member, byte-identical to the single-stream writer", async () => {
  const entries: LayerEntry[] = [
    { path: "cnb/buildpacks/x", type: "directory" },
    { path: "cnb/buildpacks/x/1.0/buildpack.toml", type: "file", content: 'api = "0.10"\n' },
    {
      path: "cnb/buildpacks/x/1.0/bin/build",
      type: "file",
      size: MiB,
      open: () => pseudoRandomStream("b", MiB),
    },
    { path: "cnb/buildpacks/x/1.0/README", type: "file", content: "read me\n".repeat(10_000) },
  ];
  for (const parallelism of [1, 3]) {
    const { layer, blob } = await layerBytes(entries, { absoluteNames: true, parallelism });
    assert.ok(blob.equals(await singleStreamLayer(entries, { absoluteNames: true })));
    assert.equal(layer.members?.members, 1);
  }
});

test("a member is exactly what one zlib stream with polypack's header gives for its bytes", async () => {
  const input = Buffer.concat([Buffer.alloc(70_000, 1), createHash("sha512").update("x").digest()]);
  const shared = Buffer.from(new SharedArrayBuffer(input.length));
  input.copy(shared);
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.from([input]),
    createLayerGzip(6),
    gzipHeaderNormalizer(),
    async function* (source) {
      for await (const chunk of source as AsyncIterable<Buffer>) chunks.push(chunk);
      yield* [];
    },
  );
  assert.ok((await gzipMember(input, 6)).equals(Buffer.concat(chunks)));
  assert.ok((await gzipMember(shared, 6)).equals(Buffer.concat(chunks)), "shared memory compresses the same");
});

test("every member is a complete gzip member with polypack's header and at most memberSize bytes of tar", async () => {
  const entries = await collect(await fixtureDir());
  const { layer, blob } = await layerBytes(entries, SMALL_CUT);
  const members = splitMembers(blob);
  assert.equal(members.length, layer.members?.members);
  assert.ok(members.length >= 10, `${members.length} members`);
  for (const member of members) {
    assert.equal(member.header.readUInt32LE(4), 0, "MTIME 0");
    assert.equal(member.header[9], 255, "OS unknown");
    assert.ok(member.inflated.length <= SMALL_CUT.memberSize);
  }
  assert.ok(Buffer.concat(members.map((m) => m.inflated)).equals(await tarBytes(entries)));
  const names: string[] = [];
  for await (const entry of readLayer(Readable.from([blob]))) names.push(entry.name);
  assert.equal(names.length, entries.length, "readLayer reads through every member");
});

test("same entries, same bytes: parallelism 1, 2 and 4, no cache, cold and warm cache, two directories", async () => {
  const [first, second] = [await fixtureDir(), await fixtureDir()];
  const cache = await tempDir();
  const digests = new Set<string>();
  const diffIDs = new Set<string>();
  const record = ({ layer }: Awaited<ReturnType<typeof layerBytes>>): void => {
    digests.add(layer.descriptor.digest);
    diffIDs.add(layer.diffID);
  };
  for (const dir of [first, second]) {
    for (const parallelism of [1, 2, 4]) {
      record(await layerBytes(await collect(dir), { ...SMALL_CUT, parallelism }));
      record(await layerBytes(await collect(dir), { ...SMALL_CUT, parallelism, memberCache: cache }));
    }
  }
  const cold = await layerBytes(await collect(first), { ...SMALL_CUT, memberCache: await tempDir() });
  record(cold);
  assert.equal(cold.layer.members?.cacheHits, 0);
  const warm = await layerBytes(await collect(second), { ...SMALL_CUT, memberCache: cache });
  record(warm);
  assert.equal(warm.layer.members?.compressed, 0, "every compressed member from the cache");
  assert.ok(warm.blob.equals(cold.blob));
  assert.equal(digests.size, 1);
  assert.equal(diffIDs.size, 1);
});

test("layers written at the same time share the hash threads without mixing them up", async () => {
  const entries = await collect(await fixtureDir());
  const variants: LayerOptions[] = [
    SMALL_CUT,
    { ...SMALL_CUT, compressionLevel: 1 },
    {},
    { absoluteNames: true },
  ];
  const alone = [];
  for (const options of variants) alone.push((await layerBytes(entries, options)).layer);
  const together = await Promise.all(
    variants.map(async (options) => (await layerBytes(entries, options)).layer),
  );
  assert.deepEqual(together, alone);
});

test("a warm cache compresses nothing and gives identical bytes; a changed small file recompresses its group only", async () => {
  const dir = await fixtureDir();
  const cache = await tempDir();
  const cold = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
  const { members: count, stored } = cold.layer.members!;
  assert.ok(stored >= 6, `the random archives are stored (${stored} of ${count} members)`);
  assert.deepEqual(cold.layer.members, {
    members: count,
    stored,
    compressed: count - stored,
    cacheHits: 0,
    cacheRepaired: 0,
  });
  const warm = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
  assert.deepEqual(warm.layer.members, {
    members: count,
    stored,
    compressed: 0,
    cacheHits: count - stored,
    cacheRepaired: 0,
  });
  assert.ok(warm.blob.equals(cold.blob));
  assert.deepEqual(warm.layer, { ...cold.layer, members: warm.layer.members });

  await writeFile(join(dir, "bin", "tool-7"), "#!/bin/sh\necho changed\n");
  const changed = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
  assert.equal(changed.layer.members?.compressed, 1);
  assert.equal(changed.layer.members?.cacheHits, count - stored - 1);
  const fresh = await layerBytes(await collect(dir), SMALL_CUT);
  assert.ok(changed.blob.equals(fresh.blob), "the same bytes as without a cache");
  assert.equal(changed.layer.diffID, fresh.layer.diffID);
  assert.notEqual(changed.layer.diffID, cold.layer.diffID);

  // Same path, same size, other bytes: nothing but the bytes tells the difference, and they do.
  const notes = join(dir, "bin", "notes.txt");
  await writeFile(notes, (await readFile(notes, "utf8")).replace("play", "PLAY"));
  const edited = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
  assert.equal(edited.layer.members?.compressed, 1);
  assert.ok(edited.blob.equals((await layerBytes(await collect(dir), SMALL_CUT)).blob));
});

test("incompressible pieces are stored: valid gzip in blocks of 65535 bytes, chosen from the bytes alone", async () => {
  const noise = Buffer.alloc(200 * KiB);
  for (let at = 0; at < noise.length; at += 64) {
    createHash("sha512").update(String(at)).digest().copy(noise, at);
  }
  assert.equal(looksIncompressible(noise), true, "hash output looks random");
  assert.equal(looksIncompressible(Buffer.from("all work and no play\n".repeat(10_000))), false, "text");
  assert.equal(looksIncompressible(Buffer.from(noise.toString("base64"))), false, "base64 compresses");
  assert.equal(looksIncompressible(noise.subarray(0, 60 * KiB)), false, "small inputs are compressed");
  for (const input of [noise, noise.subarray(0, 65535), noise.subarray(0, 65536), Buffer.alloc(0)]) {
    const member = storedMember(input);
    assert.ok(gunzipSync(member).equals(input), `${input.length} bytes inflate back`);
    assert.equal(member.length, 10 + 5 * Math.max(1, Math.ceil(input.length / 65535)) + input.length + 8);
    assert.deepEqual([...member.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  }
  const layerDir = await tempDir();
  await writeFile(join(layerDir, "archive.tgz"), Buffer.concat([noise, noise, noise]));
  const { layer, blob } = await layerBytes(await collect(layerDir), {
    segmentThreshold: 64 * KiB,
    memberSize: 128 * KiB,
  });
  assert.ok((layer.members?.stored ?? 0) >= 4);
  assert.equal(layer.diffID, sha256(gunzipSync(blob)));
  assert.equal(layer.descriptor.digest, sha256(blob));
});

test("cache entries that do not inflate to exactly their input are detected, rebuilt and replaced", async () => {
  const dir = await fixtureDir();
  const cache = await tempDir();
  const cold = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
  const entryFiles = (await filesUnder(cache)).map((name) => join(cache, name));
  const { members, stored } = cold.layer.members!;
  assert.equal(entryFiles.length, members - stored);
  const damages: ((entry: Buffer, other: Buffer) => Buffer)[] = [
    (entry) => {
      const copy = Buffer.from(entry);
      copy[Math.floor(copy.length / 2)]! ^= 0x10;
      return copy;
    },
    (entry) => entry.subarray(0, entry.length - 100),
    (entry) => Buffer.alloc(entry.length),
    () => Buffer.from("not a cache entry"),
    (entry) => Buffer.concat([entry, Buffer.from("trailing")]),
    // Another member's entry under this key: a whole, valid member of other bytes.
    (_entry, other) => other,
  ];
  for (const [i, damage] of damages.entries()) {
    const victim = entryFiles[(i * 3) % entryFiles.length]!;
    const original = await readFile(victim);
    const other = await readFile(entryFiles[(i * 3 + 1) % entryFiles.length]!);
    await writeFile(victim, damage(original, other));
    const repaired = await layerBytes(await collect(dir), { ...SMALL_CUT, memberCache: cache });
    assert.equal(repaired.layer.members?.cacheRepaired, 1, `damage ${i}`);
    assert.equal(repaired.layer.members?.compressed, 1);
    assert.ok(repaired.blob.equals(cold.blob));
    assert.ok((await readFile(victim)).equals(original), "the entry was replaced by a good one");
  }
});

test("the member cache answers only with an entry that inflates to the very input asked for", async () => {
  const cache = new MemberCache(await tempDir(), 6);
  const input = Buffer.from("some input\n".repeat(1000));
  const key = await cacheKey(input);
  assert.equal(await cache.get(key, input), "missing");
  const member = await gzipMember(input, 6);
  await cache.put(key, member);
  assert.deepEqual(await cache.get(key, input), member);
  const other = Buffer.from(input);
  other[5] = 0x41;
  assert.equal(await cache.get(key, other), "damaged", "the same key asked for other bytes");
  // A flip in the MTIME field leaves a member that still inflates to the input, but is not the
  // member polypack wrote: only the seal tells.
  const entry = await readFile(cache.entryPath(key));
  const flipped = Buffer.from(entry);
  flipped[5] = flipped[5]! ^ 0x01;
  assert.ok(gunzipSync(flipped.subarray(0, flipped.length - 32)).equals(input));
  await writeFile(cache.entryPath(key), flipped);
  assert.equal(await cache.get(key, input), "damaged", "a header byte that does not change the content");
  const linux = Buffer.from(member);
  linux[9] = 3;
  await cache.put(key, linux);
  assert.equal(await cache.get(key, input), "damaged", "the OS byte must be polypack's");
});

test("a failed write leaves only complete, valid cache entries and no temporary files", async () => {
  const dir = await fixtureDir();
  const cache = await tempDir();
  const entries = [
    ...(await collect(dir)),
    // Sorted last, after every other segment has been handed out.
    {
      path: "zz/short",
      type: "file" as const,
      size: 300 * KiB,
      open: () => pseudoRandomStream("short", 200 * KiB),
    },
  ];
  await assert.rejects(layerBytes(entries, { ...SMALL_CUT, memberCache: cache }), (error) =>
    isPolypackError(error, "LAYER_SIZE_MISMATCH"),
  );
  const files = await filesUnder(cache);
  assert.ok(files.length > 0, "members finished before the failure were kept");
  const levelDir = new MemberCache(cache, 6);
  for (const name of files) {
    assert.doesNotMatch(name, /\.tmp$/);
    const key = name.split("/").at(-1)!;
    const path = levelDir.entryPath(key);
    assert.equal(join(cache, name), path);
    const entry = await readFile(path);
    const input = gunzipSync(entry.subarray(0, entry.length - 32));
    assert.equal(await cacheKey(input), key, `${name} is a whole entry for its key`);
  }
  const file = join(await tempDir(), "layer.tgz");
  await assert.rejects(writeLayerFile(entries, file, { ...SMALL_CUT, memberCache: cache }));
  assert.deepEqual(await readdir(join(file, "..")), [], "no partial layer file either");
});

test("a cache that cannot be written fails the layer with LAYER_CACHE_WRITE_FAILED", async () => {
  const blocker = join(await tempDir(), "not-a-dir");
  await writeFile(blocker, "");
  const entries = await collect(await fixtureDir());
  await assert.rejects(layerBytes(entries, { ...SMALL_CUT, memberCache: blocker }), (error) => {
    assert.ok(isPolypackError(error, "LAYER_CACHE_WRITE_FAILED"));
    assert.match(error.message, /not-a-dir/);
    return true;
  });
});

test("invalid parallelism is refused before anything is written", async () => {
  for (const parallelism of [0, -1, 1.5, 1000]) {
    await assert.rejects(layerBytes([], { parallelism }), (error) =>
      isPolypackError(error, "LAYER_OPTIONS_INVALID"),
    );
  }
});

test(
  "a 256 MiB generated file streams through with bounded memory and the right hashes",
  { skip: quick },
  async () => {
    const size = 256 * MiB;
    const memberSize = 8 * MiB;
    const parallelism = 2;
    let produced = 0;
    let consumed = 0;
    let maxLead = 0;
    const open = (): Readable =>
      pseudoRandomStream("huge", size).pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            produced += chunk.length;
            maxLead = Math.max(maxLead, produced - consumed);
            callback(null, chunk);
          },
        }),
      );
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 10);
    const diff = createHash("sha256");
    const blob = createHash("sha256");
    try {
      const layer = await writeLayer(
        [{ path: "huge.bin", type: "file", size, open }],
        new Writable({
          highWaterMark: 64 * KiB,
          write(data: Buffer, _encoding, callback) {
            consumed += data.length;
            blob.update(data);
            setImmediate(callback);
          },
        }),
        // Level 0 (stored members) keeps it quick on a slow machine; every byte still goes through the cut.
        { compressionLevel: 0, parallelism, memberSize },
      );
      clearInterval(sampler);
      assert.equal(produced, size);
      assert.equal(layer.members?.members, Math.ceil((size + 512 + 1024) / memberSize));
      assert.equal(layer.descriptor.digest, `sha256:${blob.digest("hex")}`);
      // Stored (level 0) members are as big as their input, so the lead counts both sides alike:
      // (parallelism + 1) inputs in flight, one being filled, and the sink's small buffer.
      assert.ok(
        maxLead < (parallelism + 3) * memberSize,
        `generator ran ${maxLead / MiB} MiB ahead of the sink`,
      );
      // Holding the layer would take 512 MiB (its tar and its blob). What is measured here also
      // counts buffers the collector has not reclaimed yet, which it does lazily.
      const grew = (peak - baseline) / MiB;
      assert.ok(grew < 224, `buffers grew by ${grew.toFixed(0)} MiB while writing a 256 MiB layer`);
      const tar = tarStream([
        { path: "huge.bin", type: "file", size, open: () => pseudoRandomStream("huge", size) },
      ]);
      for await (const piece of tar) diff.update(piece);
      assert.equal(layer.diffID, `sha256:${diff.digest("hex")}`);
    } finally {
      clearInterval(sampler);
    }
  },
);
