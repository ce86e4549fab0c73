/**
 * Reuse across runs through the member cache: files vouched for by an identity are not read when
 * the layer (or their segment) was recorded before, and a destination that already holds the
 * recorded blob gets nothing written at all. Every result is checked against a write without cache.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { fileHeaderBytes, packEntries, tarHeaderOptions } from "../../../src/layer/tar-writer.js";
import { readVouched, vouchedMembers } from "../../../src/layer/member-inputs.js";
import { writeLayerFile, type LayerOptions } from "../../../src/layer/write-layer.js";
import { pseudoRandomStream } from "../../support/images.js";
import { layerBytes as writeToMemory } from "../../support/layer-bytes.js";
import { tempDir } from "../../support/tmp.js";
import { isPolypackError } from "../../../src/errors.js";

const KiB = 1024;
const CUT = { segmentThreshold: 256 * KiB, memberSize: 256 * KiB };

/** A buildpack-like layer: two scripts and one big "dependency" whose opens are counted. */
async function fixture() {
  const dir = await tempDir();
  const big = join(dir, "dep.tgz");
  await writeFile(big, Buffer.concat(await chunksOf(pseudoRandomStream("dep", 900 * KiB + 77))));
  const opens = { big: 0 };
  let script = "#!/bin/sh\necho build\n";
  const entries = async (identity?: string): Promise<LayerEntry[]> => {
    const { size } = await stat(big);
    return [
      { path: "/cnb/bp/1.0/bin/build", type: "file", mode: 0o755, content: script },
      { path: "/cnb/bp/1.0/bin/detect", type: "file", mode: 0o755, content: "#!/bin/sh\nexit 0\n" },
      {
        path: "/cnb/bp/1.0/dependencies/abc/dep.tgz",
        type: "file",
        size,
        open: () => {
          opens.big++;
          return createReadStream(big);
        },
        file: big,
        ...(identity === undefined ? {} : { identity }),
      },
    ];
  };
  return {
    dir,
    big,
    opens,
    entries,
    setScript: (text: string) => {
      script = text;
    },
  };
}

async function chunksOf(stream: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Writes a layer into memory with the test's small cut. */
function layerBytes(entries: LayerEntry[], options: LayerOptions = {}) {
  return writeToMemory(entries, { ...CUT, ...options });
}

test("fileHeaderBytes is exactly the tar before a file's content, with and without PAX records", async () => {
  const names = ["a/b", `cnb/${"x".repeat(150)}`, "cnb/ünïcode", `${"d/".repeat(60)}f`];
  for (const name of names) {
    for (const absoluteNames of [false, true]) {
      const size = 5000;
      const entry = {
        type: "file" as const,
        path: name,
        size,
        open: () => Readable.from([Buffer.alloc(size, 1)]),
      };
      const options = tarHeaderOptions({ absoluteNames });
      const header = await fileHeaderBytes(entry, name, options);
      const tar = Buffer.concat(await chunksOf(packEntries([{ path: name, entry }], options, false)));
      assert.ok(tar.subarray(0, header.length).equals(header), `${name} (${absoluteNames})`);
      assert.equal(tar.length - header.length, Math.ceil(size / 512) * 512, "content and padding follow");
    }
  }
});

test("vouched members cut header, file and zeros exactly as one pass over the segment would", async () => {
  const dir = await tempDir();
  const path = join(dir, "content");
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(512, 1536, 2048),
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: 64, max: 3000 }),
      fc.boolean(),
      async (headerLength, size, memberSize, endOfArchive) => {
        const header = Buffer.alloc(headerLength, 0xaa);
        const content = Buffer.alloc(size);
        for (let i = 0; i < size; i++) content[i] = (i * 7 + 3) % 251;
        await writeFile(path, content);
        const padded = Math.ceil(size / 512) * 512;
        const segment = Buffer.concat([
          header,
          content,
          Buffer.alloc(padded - size + (endOfArchive ? 1024 : 0)),
        ]);
        const lengths: number[] = [];
        for (let at = 0; at < segment.length; at += memberSize)
          lengths.push(Math.min(memberSize, segment.length - at));
        const members = vouchedMembers(header, { path, size }, endOfArchive, memberSize, lengths);
        assert.ok(members);
        const read = await Promise.all(members.map((member) => readVouched(member)));
        assert.ok(Buffer.concat(read).equals(segment));
        assert.deepEqual(
          read.map((piece) => piece.length),
          lengths,
        );
        // Lengths that do not fit the segment mean a stale record: nothing is vouched for.
        assert.equal(
          vouchedMembers(header, { path, size: size + 512 }, endOfArchive, memberSize, lengths),
          undefined,
        );
        assert.equal(vouchedMembers(header, { path, size }, !endOfArchive, memberSize, lengths), undefined);
      },
    ),
    { numRuns: 60 },
  );
});

test("a recorded layer whose big file keeps its identity is copied from the cache without reading that file", async () => {
  const { big, entries } = await fixture();
  const cache = await tempDir();
  const fresh = await layerBytes(await entries());
  const cold = await layerBytes(await entries("dep@1"), { memberCache: cache });
  assert.ok(cold.blob.equals(fresh.blob));

  // Other bytes of the same size under the same identity: a write that read the file would differ.
  await writeFile(big, Buffer.concat(await chunksOf(pseudoRandomStream("other", (await stat(big)).size))));
  const warm = await layerBytes(await entries("dep@1"), { memberCache: cache });
  assert.equal(warm.layer.members?.recordReused, true);
  assert.ok(warm.blob.equals(cold.blob), "the file was not read");
  assert.equal(warm.layer.diffID, cold.layer.diffID);

  // Without the identity (or with another one) the file is read and hashed as before.
  const unvouched = await layerBytes(await entries(), { memberCache: cache });
  assert.ok(unvouched.blob.equals((await layerBytes(await entries())).blob));
  assert.ok(!unvouched.blob.equals(cold.blob));
  const renamed = await layerBytes(await entries("dep@2"), { memberCache: cache });
  assert.ok(renamed.blob.equals(unvouched.blob));
});

test("when another file changes, the big file's members keep their recorded keys and only the changed piece is compressed", async () => {
  const { entries, setScript } = await fixture();
  const cache = await tempDir();
  await layerBytes(await entries("dep@1"), { memberCache: cache });
  setScript("#!/bin/sh\necho build, changed and longer\n");
  const changed = await layerBytes(await entries("dep@1"), { memberCache: cache });
  assert.equal(changed.layer.members?.recordReused, false);
  assert.equal(changed.layer.members?.compressed, 1, "only the scripts' member is compressed");
  const fresh = await layerBytes(await entries());
  assert.ok(changed.blob.equals(fresh.blob), "the same bytes as without a cache");
  assert.equal(changed.layer.diffID, fresh.layer.diffID, "the thread hashed the file's real bytes");
  assert.deepEqual(changed.layer.descriptor, fresh.layer.descriptor);
});

test("a big file whose stream must be opened (no path given) gives the same layer as one read by path", async () => {
  const { entries, opens } = await fixture();
  const byPath = await layerBytes(await entries());
  const streamed = (await entries()).map((entry) =>
    entry.type === "file" ? { ...entry, file: undefined } : entry,
  );
  const viaOpen = await layerBytes(streamed);
  assert.equal(opens.big, 1, "opened only when no path was given");
  assert.ok(viaOpen.blob.equals(byPath.blob));
  assert.equal(viaOpen.layer.diffID, byPath.layer.diffID);
});

test("a vouched member whose cache entry is gone is read from the file and compressed again", async () => {
  const { entries, setScript } = await fixture();
  const cache = await tempDir();
  await layerBytes(await entries("dep@1"), { memberCache: cache });
  const members = await membersIn(cache);
  // Remove every member except those of the scripts, then change a script so no record applies.
  for (const member of members.slice(1)) await rm(member);
  setScript("#!/bin/sh\necho build, changed\n");
  const rebuilt = await layerBytes(await entries("dep@1"), { memberCache: cache });
  const fresh = await layerBytes(await entries());
  assert.ok(rebuilt.blob.equals(fresh.blob));
  assert.ok((rebuilt.layer.members?.compressed ?? 0) > 1);
});

test("a vouched file that shrank fails the write and leaves no file behind", async () => {
  const { dir, big, entries, setScript } = await fixture();
  const cache = await tempDir();
  await layerBytes(await entries("dep@1"), { memberCache: cache });
  const before = await entries("dep@1");
  await writeFile(big, Buffer.alloc(10)); // the identity is stale: a caller broke its promise
  setScript("#!/bin/sh\necho changed\n");
  const out = join(dir, "out", "layer.tar.gz");
  const scripts = (await entries("dep@1")).slice(0, 2);
  await assert.rejects(writeLayerFile([...scripts, before[2]!], out, { ...CUT, memberCache: cache }));
  await assert.rejects(stat(out), { code: "ENOENT" });
  assert.deepEqual(
    (await readdir(join(dir, "out"))).filter((name) => name.endsWith(".tmp")),
    [],
  );
});

test("alreadyStored: a destination holding the recorded blob gets nothing; any change writes as usual", async () => {
  const { dir, entries, opens, setScript } = await fixture();
  const cache = await tempDir();
  const first = await layerBytes(await entries("dep@1"), { memberCache: cache });
  const asked: string[] = [];
  const holds = (digest: string) => (blob: { digest: string; size: number }) => {
    asked.push(blob.digest);
    return Promise.resolve(blob.digest === digest && blob.size === first.layer.descriptor.size);
  };
  const opened = opens.big;
  const out = join(dir, "skipped.tar.gz");
  const skipped = await writeLayerFile(await entries("dep@1"), out, {
    ...CUT,
    memberCache: cache,
    alreadyStored: holds(first.layer.descriptor.digest),
  });
  assert.equal(skipped.written, false);
  assert.deepEqual(skipped.descriptor, first.layer.descriptor);
  assert.equal(skipped.diffID, first.layer.diffID);
  assert.deepEqual(asked, [first.layer.descriptor.digest]);
  assert.equal(opens.big, opened, "nothing read");
  await assert.rejects(stat(out), { code: "ENOENT" });

  // The destination lacks it: written, from the record.
  const written = await layerBytes(await entries("dep@1"), {
    memberCache: cache,
    alreadyStored: holds("sha256:x"),
  });
  assert.equal(written.layer.written, true);
  assert.ok(written.blob.equals(first.blob));

  // Same size, other bytes in a script: the record's signature matches but a key does not.
  setScript("#!/bin/sh\necho BUILD\n");
  const edited = await layerBytes(await entries("dep@1"), {
    memberCache: cache,
    alreadyStored: holds(first.layer.descriptor.digest),
  });
  assert.equal(edited.layer.written, true);
  assert.notEqual(edited.layer.descriptor.digest, first.layer.descriptor.digest);
  assert.ok(edited.blob.equals((await layerBytes(await entries())).blob));
});

async function membersIn(cache: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "layers" && entry.name !== "segments") await walk(path);
      } else found.push(path);
    }
  };
  await walk(cache);
  // The scripts' member first: it is the only one smaller than a full piece.
  const sized = await Promise.all(found.map(async (path) => ({ path, size: (await stat(path)).size })));
  return sized.sort((a, b) => a.size - b.size).map(({ path }) => path);
}

test("a file read by path that grew or shrank since it was listed fails with LAYER_SIZE_MISMATCH", async () => {
  for (const change of [+700, -700]) {
    const { big, entries } = await fixture();
    const listed = await entries();
    const { size } = await stat(big);
    await writeFile(big, Buffer.alloc(size + change, 1));
    await assert.rejects(layerBytes(listed), (error) => isPolypackError(error, "LAYER_SIZE_MISMATCH"));
  }
});
