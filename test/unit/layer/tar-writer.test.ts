import assert from "node:assert/strict";
import { test } from "node:test";
import { Readable } from "node:stream";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { DEFAULT_LAYER_MTIME, layerMtime, normalizeMode } from "../../../src/layer/header.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { prepareEntries, tarStream, type TarOptions } from "../../../src/layer/tar-writer.js";
import { Digest } from "../../../src/oci/digest.js";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";

async function tarBytes(entries: LayerEntry[], options: TarOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, options)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The raw ustar headers of an uncompressed tar: typeflag, name field, uid/gid/mtime fields. */
function rawHeaders(tar: Buffer): { typeflag: string; name: string; uname: string; magic: string }[] {
  const headers = [];
  let offset = 0;
  while (offset + 512 <= tar.length && tar[offset] !== 0) {
    const block = tar.subarray(offset, offset + 512);
    const field = (start: number, length: number): string =>
      block
        .subarray(start, start + length)
        .toString("latin1")
        .replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    headers.push({
      typeflag: field(156, 1),
      name: field(0, 100),
      uname: field(265, 32),
      magic: field(257, 6),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return headers;
}

const sample = (): LayerEntry[] => [
  { path: "cnb/buildpacks/x/1.0/bin/build", type: "file", content: "#!/bin/sh\nexit 0\n", mode: 0o700 },
  { path: "cnb/buildpacks/x", type: "directory", mode: 0o700 },
  { path: "cnb/buildpacks/x/1.0", type: "directory" },
  { path: "cnb/buildpacks/x/1.0/bin", type: "directory" },
  { path: "cnb/buildpacks/x/1.0/bin/detect", type: "symlink", linkname: "build" },
  { path: "cnb/buildpacks/x/1.0/buildpack.toml", type: "file", content: 'api = "0.10"\n', mode: 0o664 },
];

test("the same entries in any order give byte-identical tars", async () => {
  const first = await tarBytes(sample());
  const second = await tarBytes(sample().reverse());
  assert.equal(Digest.of(first).toString(), Digest.of(second).toString());
});

test("entries are sorted so that every directory comes right before its contents", async () => {
  const names = rawHeaders(await tarBytes(sample())).map((header) => header.name);
  assert.deepEqual(names, [
    "cnb/buildpacks/x",
    "cnb/buildpacks/x/1.0",
    "cnb/buildpacks/x/1.0/bin",
    "cnb/buildpacks/x/1.0/bin/build",
    "cnb/buildpacks/x/1.0/bin/detect",
    "cnb/buildpacks/x/1.0/buildpack.toml",
  ]);
  const order = prepareEntries([
    { path: "a-b", type: "directory" },
    { path: "a/b", type: "directory" },
    { path: "a", type: "directory" },
  ]).map((entry) => entry.path);
  assert.deepEqual(order, ["a", "a/b", "a-b"]);
});

test("headers: root ownership, empty user names, fixed mtime, pack's modes, ustar format", async () => {
  const tar = await tarBytes(sample(), { mtime: DEFAULT_LAYER_MTIME });
  const modes = new Map<string, number>();
  for await (const entry of readLayer(Readable.from([tar]))) {
    assert.equal(entry.uid, 0);
    assert.equal(entry.gid, 0);
    assert.equal(entry.uname, "");
    assert.equal(entry.gname, "");
    assert.equal(entry.mtime.toISOString(), "1980-01-01T00:00:01.000Z");
    modes.set(entry.path, entry.mode);
  }
  assert.equal(modes.get("cnb/buildpacks/x"), 0o755);
  assert.equal(modes.get("cnb/buildpacks/x/1.0/bin/build"), 0o755);
  assert.equal(modes.get("cnb/buildpacks/x/1.0/buildpack.toml"), 0o644);
  for (const header of rawHeaders(tar)) assert.equal(header.magic, "ustar");
});

test("mode normalisation follows pack, and exactMode overrides it", () => {
  assert.equal(normalizeMode({ path: "d", type: "directory", mode: 0o700 }), 0o755);
  assert.equal(normalizeMode({ path: "f", type: "file", content: "", mode: 0o600 }), 0o644);
  assert.equal(normalizeMode({ path: "f", type: "file", content: "", mode: 0o744 }), 0o755);
  assert.equal(normalizeMode({ path: "f", type: "file", content: "", mode: 0o601 }), 0o755);
  assert.equal(normalizeMode({ path: "f", type: "file", content: "" }), 0o644);
  assert.equal(normalizeMode({ path: "f", type: "file", content: "", mode: 0o600, exactMode: 0o640 }), 0o640);
  assert.equal(normalizeMode({ path: "d", type: "directory", exactMode: 0o700 }), 0o700);
});

test("absoluteNames writes names (and hard link targets) with a leading slash", async () => {
  const entries: LayerEntry[] = [
    { path: "/cnb/a", type: "file", content: "a" },
    { path: "cnb/b", type: "hardlink", linkname: "/cnb/a" },
  ];
  const absolute = [];
  for await (const entry of readLayer(Readable.from([await tarBytes(entries, { absoluteNames: true })]))) {
    absolute.push([entry.name, entry.path, entry.linkname]);
  }
  assert.deepEqual(absolute, [
    ["/cnb/a", "cnb/a", undefined],
    ["/cnb/b", "cnb/b", "cnb/a"],
  ]);
  const relative = rawHeaders(await tarBytes(entries)).map((header) => header.name);
  assert.deepEqual(relative, ["cnb/a", "cnb/b"]);
});

test("PAX headers appear only for names ustar cannot hold", async () => {
  const short = rawHeaders(await tarBytes(sample(), { absoluteNames: true }));
  assert.ok(short.every((header) => header.typeflag !== "x"));

  const longName = `cnb/${"segment/".repeat(40)}file`;
  const splittable = `cnb/${"d".repeat(90)}/${"f".repeat(90)}`;
  const entries: LayerEntry[] = [
    { path: longName, type: "file", content: "long" },
    { path: splittable, type: "file", content: "split" },
    { path: "cnb/ünïcode", type: "file", content: "u" },
  ];
  const tar = await tarBytes(entries);
  const headers = rawHeaders(tar);
  assert.equal(
    headers.filter((header) => header.typeflag === "x").length,
    2,
    "long and non-ASCII names only",
  );
  const names = [];
  for await (const entry of readLayer(Readable.from([tar]))) names.push(entry.path);
  assert.deepEqual(names.sort(), [longName, splittable, "cnb/ünïcode"].sort());

  const absolute = rawHeaders(
    await tarBytes([{ path: splittable, type: "file", content: "" }], { absoluteNames: true }),
  );
  // Go splits it too: the leading `/` stays in the ustar prefix, so no PAX header is needed.
  assert.equal(absolute.length, 1, "a long absolute name is split into ustar's prefix, as Go splits it");
  const tarWithSlash = await tarBytes([{ path: splittable, type: "file", content: "" }], {
    absoluteNames: true,
  });
  for await (const entry of readLayer(Readable.from([tarWithSlash])))
    assert.equal(entry.name, `/${splittable}`);
});

test("SOURCE_DATE_EPOCH sets the mtime; invalid values are refused", async () => {
  assert.equal(layerMtime({}).toISOString(), "1980-01-01T00:00:01.000Z");
  assert.equal(layerMtime({ SOURCE_DATE_EPOCH: "1700000000" }).toISOString(), "2023-11-14T22:13:20.000Z");
  for (const bad of ["-1", "1.5", "soon", "99999999999"]) {
    assert.throws(
      () => layerMtime({ SOURCE_DATE_EPOCH: bad }),
      (error) => isPolypackError(error, "SOURCE_DATE_EPOCH_INVALID"),
    );
  }
  const saved = process.env["SOURCE_DATE_EPOCH"];
  process.env["SOURCE_DATE_EPOCH"] = "1700000000";
  try {
    const defaulted = await tarBytes(sample());
    for await (const entry of readLayer(Readable.from([defaulted]))) {
      assert.equal(entry.mtime.getTime(), 1700000000 * 1000);
    }
  } finally {
    if (saved === undefined) delete process.env["SOURCE_DATE_EPOCH"];
    else process.env["SOURCE_DATE_EPOCH"] = saved;
  }
});

test("refuses duplicate paths, escaping paths, entries inside files and dangling hard links", async () => {
  const refuse = (entries: LayerEntry[], code: ErrorCode) =>
    assert.rejects(tarBytes(entries), (error) => isPolypackError(error, code));
  await refuse(
    [
      { path: "a", type: "directory" },
      { path: "/a/", type: "directory" },
    ],
    "LAYER_DUPLICATE_PATH",
  );
  await refuse([{ path: "../etc/passwd", type: "file", content: "" }], "LAYER_PATH_INVALID");
  await refuse([{ path: "/", type: "directory" }], "LAYER_PATH_INVALID");
  await refuse([{ path: "a", type: "hardlink", linkname: "b" }], "LAYER_ENTRY_INVALID");
  await refuse(
    [
      { path: "a", type: "file", content: "" },
      { path: "a/b/c", type: "file", content: "" },
    ],
    "LAYER_ENTRY_INVALID",
  );
  await refuse(
    [
      { path: "a", type: "hardlink", linkname: "b" },
      { path: "b", type: "file", content: "" },
    ],
    "LAYER_ENTRY_INVALID",
  );
});

test("a streamed file that is shorter or longer than its size fails with LAYER_SIZE_MISMATCH", async () => {
  for (const actual of [3, 5]) {
    const entry: LayerEntry = {
      path: "f",
      type: "file",
      size: 4,
      open: () => Readable.from([Buffer.alloc(actual)]),
    };
    await assert.rejects(tarBytes([entry]), (error) => isPolypackError(error, "LAYER_SIZE_MISMATCH"));
  }
});

test("a failing content stream fails the tar stream and closes the source", async () => {
  let destroyed = false;
  const failing = new Readable({
    read() {
      this.destroy(new Error("disk on fire"));
    },
    destroy(error, callback) {
      destroyed = true;
      callback(error);
    },
  });
  const entries: LayerEntry[] = [{ path: "f", type: "file", size: 10, open: () => failing }];
  await assert.rejects(tarBytes(entries), /disk on fire/);
  assert.ok(destroyed);
});

test("a consumer that stops early ends the writer and closes the open file", async () => {
  let destroyed = false;
  const endless = (): Readable =>
    new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
      destroy(error, callback) {
        destroyed = true;
        callback(error);
      },
    });
  const entries: LayerEntry[] = [{ path: "huge", type: "file", size: 2 ** 40, open: endless }];
  let chunks = 0;
  for await (const _chunk of tarStream(entries)) {
    if (++chunks === 3) break;
  }
  assert.ok(destroyed);
});
