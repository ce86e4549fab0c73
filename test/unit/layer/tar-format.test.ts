import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { test } from "node:test";
import { createGunzip } from "node:zlib";
import fc from "fast-check";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { entryHeaderBytes, tarHeaderFor, type HeaderOptions } from "../../../src/layer/header.js";
import { readEntryContent, readLayer } from "../../../src/layer/read-layer.js";
import { encodeTarHeader, paddedLength } from "../../../src/layer/tar-format.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import { CnbSource } from "../../../src/layout/cnb-source.js";
import { Digest } from "../../../src/oci/digest.js";
import { parseManifest } from "../../../src/oci/manifest.js";
import { fixture } from "../../support/fixtures.js";
import { goTarHeaders, type GoTarEntry } from "../../support/go-oracles.js";

async function bytes(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// Path segments that exercise ustar's 100-byte name and 155-byte prefix (where Go splits a long
// name, and where it cannot), non-ASCII names and the PAX fallback.
const segment = fc.oneof(
  fc.constantFrom(
    "cnb",
    "buildpacks",
    "bin",
    "a",
    "é",
    "日本",
    "x".repeat(60),
    "y".repeat(99),
    "z".repeat(101),
  ),
  fc.stringMatching(/^[a-z0-9._-]{1,40}$/).filter((s) => s !== "." && s !== ".."),
);
const path = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join("/"));
const linkTarget = fc.oneof(path, fc.constantFrom("../x", "/usr/bin/env", "ü".repeat(40), "z".repeat(101)));
const entry: fc.Arbitrary<LayerEntry> = fc.oneof(
  path.map((p): LayerEntry => ({ path: p, type: "directory" })),
  fc
    .tuple(path, fc.uint8Array({ maxLength: 1500 }), fc.constantFrom(0o644, 0o755, 0o600, 0o4755))
    .map(([p, content, mode]): LayerEntry => ({ path: p, type: "file", content, mode })),
  fc.tuple(path, linkTarget).map(([p, linkname]): LayerEntry => ({ path: p, type: "symlink", linkname })),
  fc.tuple(path, path).map(([p, linkname]): LayerEntry => ({ path: p, type: "hardlink", linkname })),
);

/** The same header fields, handed to Go's archive/tar (test/support/go-tar) instead. */
function goEntry(entry: LayerEntry, path: string, options: HeaderOptions): GoTarEntry {
  const fields = tarHeaderFor(entry, path, options);
  return {
    name: fields.name,
    type: fields.type,
    mode: fields.mode,
    size: fields.size,
    mtime: fields.mtime,
    ...(fields.linkname !== undefined ? { linkname: fields.linkname } : {}),
    ...(entry.type === "file" && entry.content !== undefined ? { content: Buffer.from(entry.content) } : {}),
  };
}

test("every header is the bytes Go's archive/tar writes for it (ustar splits, PAX records and names)", async () => {
  const cases: { entries: LayerEntry[]; options: HeaderOptions }[] = fc.sample(
    fc.record({
      entries: fc.uniqueArray(entry, { minLength: 1, maxLength: 12, selector: (e) => e.path }),
      options: fc.record({
        absoluteNames: fc.boolean(),
        mtime: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((s) => new Date(s * 1000)),
      }),
    }),
    { numRuns: 300, seed: 14 },
  );
  // One run of the Go oracle for every sampled entry; each entry's bytes are compared on their own.
  const all = cases.flatMap(({ entries, options }) =>
    entries.map((e) => ({ e, p: e.path.replace(/^\/+/, ""), options })),
  );
  const theirs = await goTarHeaders(all.map(({ e, p, options }) => goEntry(e, p, options)));
  let offset = 0;
  for (const { e, p, options } of all) {
    const header = entryHeaderBytes(e, p, options);
    const content = e.type === "file" ? Buffer.from(e.content ?? "") : Buffer.alloc(0);
    const padded = Buffer.concat([content, Buffer.alloc(paddedLength(content.length) - content.length)]);
    const expected = theirs.subarray(offset, offset + header.length + padded.length);
    assert.deepEqual(
      Buffer.concat([header, padded]),
      expected,
      `${p} (${e.type}, absolute ${options.absoluteNames})`,
    );
    offset += header.length + padded.length;
  }
  assert.equal(offset, theirs.length);
});

test("a file over 8 GiB gets a PAX size record and a zero size field, as Go writes it", async () => {
  const huge = 9 * 1024 ** 3;
  const options: HeaderOptions = { absoluteNames: true, mtime: new Date(1000) };
  for (const name of ["cnb/big.bin", `cnb/${"d".repeat(120)}/big.bin`, `cnb/${"e".repeat(160)}.bin`]) {
    const file: LayerEntry = { path: name, type: "file", size: huge, open: () => Readable.from([]) };
    const ours = entryHeaderBytes(file, name, options);
    assert.deepEqual(ours, await goTarHeaders([goEntry(file, name, options)]), name);
    assert.match(ours.toString("latin1"), new RegExp(`size=${huge}\n`));
  }
});

test("headers are whole blocks with a valid checksum, PAX only where ustar cannot hold the entry", () => {
  const fields = { name: "a/b", type: "file" as const, mode: 0o644, size: 3, mtime: 0 };
  const plain = encodeTarHeader(fields);
  assert.equal(plain.length, 512);
  assert.equal(plain.toString("latin1", 100, 108), "0000644\0");
  assert.equal(plain.toString("latin1", 154, 156), "\0 ");
  const copy = Buffer.from(plain);
  copy.fill(0x20, 148, 156);
  assert.equal(
    parseInt(plain.toString("latin1", 148, 154), 8),
    copy.reduce((sum, byte) => sum + byte, 0),
  );
  const pax = encodeTarHeader({ ...fields, name: "é" });
  assert.equal(pax.length % 512, 0);
  assert.equal(pax[156], 0x78, "a PAX header first");
});

test("every buildpack layer of pack's hello-universe.cnb is reproduced byte for byte", async () => {
  const source = await CnbSource.open(fixture("pack/hello-universe.cnb"));
  const root = await source.resolve();
  const parsed = parseManifest(await source.fetchManifest(root), root.mediaType, "fixture");
  assert.equal(parsed.kind, "image");
  if (parsed.kind !== "image") return;
  for (const layer of parsed.manifest.layers) {
    const original = await bytes((await source.openBlob(layer)).pipe(createGunzip()));
    const entries: LayerEntry[] = [];
    for await (const read of readLayer(Readable.from([original]), { compression: "none" })) {
      if (read.type === "directory") entries.push({ path: read.name, type: "directory", mode: read.mode });
      else if (read.type === "file") {
        entries.push({
          path: read.name,
          type: "file",
          mode: read.mode,
          content: await readEntryContent(read, 1 << 20),
        });
      }
    }
    const ours = await bytes(tarStream(entries, { absoluteNames: true }));
    assert.equal(Digest.of(ours).toString(), Digest.of(original).toString(), `layer ${layer.digest}`);
  }
});

test("GNU tar reads what the encoder writes, long and non-ASCII names included", async () => {
  const entries: LayerEntry[] = [
    { path: "/cnb/a", type: "directory" },
    { path: "/cnb/a/file", type: "file", content: "x".repeat(1000) },
    { path: `/cnb/a/${"long-name-".repeat(15)}`, type: "file", content: "long" },
    { path: "/cnb/a/naïve", type: "symlink", linkname: "file" },
  ];
  const tar = await bytes(tarStream(entries, { absoluteNames: true }));
  const listing = execFileSync("tar", ["-tvf", "-"], { input: tar }).toString();
  assert.match(listing, /cnb\/a\/file/);
  assert.match(listing, /long-name-long-name-/);
  assert.match(listing, /naïve -> file/);
});
