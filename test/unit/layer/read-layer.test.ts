import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { pack } from "tar-stream";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { readEntryContent, readLayer, type LayerReadEntry } from "../../../src/layer/read-layer.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import { isPolypackError } from "../../../src/errors/index.js";

/** A tar built with tar-stream directly, so hostile names get in unchecked. */
async function rawTar(headers: { name: string; type?: "file" | "symlink" | "link"; linkname?: string }[]) {
  const archive = pack();
  for (const header of headers) {
    if (header.type === undefined || header.type === "file") archive.entry(header, Buffer.alloc(0));
    else archive.entry(header);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every entry, with its content read while the entry is current (later it is gone). */
async function readAll(tar: Uint8Array): Promise<(LayerReadEntry & { data: Buffer })[]> {
  const entries = [];
  for await (const entry of readLayer(Readable.from([tar]))) {
    entries.push({ ...entry, data: await readEntryContent(entry, 1 << 20) });
  }
  return entries;
}

async function tarOf(entries: LayerEntry[], absoluteNames = false): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, { absoluteNames })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("entries whose path climbs out of the root are refused with PATH_ESCAPE", async () => {
  for (const name of ["../evil", "/../evil", "a/../../evil", "./a/../../../etc/passwd"]) {
    await assert.rejects(
      readAll(await rawTar([{ name }])),
      (error) => isPolypackError(error, "PATH_ESCAPE"),
      name,
    );
  }
  const hardlink = await rawTar([
    { name: "ok" },
    { name: "link", type: "link", linkname: "../../etc/shadow" },
  ]);
  await assert.rejects(readAll(hardlink), (error) => isPolypackError(error, "PATH_ESCAPE"));
});

test("harmless dot segments and absolute symlink targets are accepted", async () => {
  const tar = await rawTar([
    { name: "a/./b/../c" },
    { name: "/abs" },
    { name: "etc-link", type: "symlink", linkname: "/etc/os-release" },
    { name: "up-link", type: "symlink", linkname: "../../x" },
  ]);
  const entries = await readAll(tar);
  assert.deepEqual(
    entries.map((entry) => [entry.path, entry.type, entry.linkname]),
    [
      ["a/c", "file", undefined],
      ["abs", "file", undefined],
      ["etc-link", "symlink", "/etc/os-release"],
      ["up-link", "symlink", "../../x"],
    ],
  );
});

test("gzip is detected by its magic bytes; content left unread or half read is skipped", async () => {
  const big = Buffer.alloc(200_000, 1);
  const tar = await tarOf([
    { path: "a", type: "file", content: big },
    { path: "b", type: "file", content: big },
    { path: "c", type: "file", content: "last" },
  ]);
  const seen: string[] = [];
  for await (const entry of readLayer(Readable.from([gzipSync(tar)]))) {
    seen.push(entry.path);
    if (entry.path === "b") {
      for await (const chunk of entry.content) {
        assert.ok(chunk.length > 0);
        break;
      }
    }
    if (entry.path === "c") assert.equal((await readEntryContent(entry, 100)).toString(), "last");
  }
  assert.deepEqual(seen, ["a", "b", "c"]);
});

test("garbage and truncated archives fail with LAYER_INVALID", async () => {
  await assert.rejects(readAll(Buffer.alloc(1024, 0x41)), (error) => isPolypackError(error, "LAYER_INVALID"));
  const tar = await tarOf([{ path: "a", type: "file", content: Buffer.alloc(5000, 1) }]);
  await assert.rejects(readAll(tar.subarray(0, 2048)), (error) => isPolypackError(error, "LAYER_INVALID"));
  await assert.rejects(readAll(gzipSync(tar).subarray(0, 40)), (error) =>
    isPolypackError(error, "LAYER_INVALID"),
  );
});

const segment = fc.stringMatching(/^[a-zA-Z0-9._é-]{1,40}$/).filter((s) => s !== "." && s !== "..");
const leaf = fc.record({
  path: fc.array(segment, { minLength: 1, maxLength: 4 }),
  kind: fc.constantFrom("file", "exec", "symlink"),
  content: fc.uint8Array({ maxLength: 1500 }),
  target: fc.constantFrom("/etc/passwd", "../sibling", "x"),
});

test("property: any set of entries written and read back keeps names, types, modes and content", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(leaf, { maxLength: 12 }), fc.boolean(), async (leaves, absoluteNames) => {
      const entries = new Map<string, LayerEntry>();
      for (const { path } of leaves) {
        for (let depth = 1; depth < path.length; depth++) {
          const dir = path.slice(0, depth).join("/");
          entries.set(dir, { path: dir, type: "directory" });
        }
      }
      for (const { path, kind, content, target } of leaves) {
        const name = path.join("/");
        if (entries.has(name)) continue;
        entries.set(
          name,
          kind === "symlink"
            ? { path: name, type: "symlink", linkname: target }
            : { path: name, type: "file", content, mode: kind === "exec" ? 0o700 : 0o600 },
        );
      }
      const expected = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
      const actual = await readAll(await tarOf([...entries.values()], absoluteNames));
      const summary = (entry: LayerEntry | LayerReadEntry) => entry.path;
      assert.deepEqual(actual.map(summary).sort(), expected.map(summary));
      for (const read of actual) {
        const written = entries.get(read.path)!;
        assert.equal(read.type, written.type);
        assert.equal(read.name, absoluteNames ? `/${read.path}` : read.path);
        if (written.type === "file" && written.content !== undefined) {
          assert.deepEqual(new Uint8Array(read.data), written.content);
          assert.equal(read.mode, written.mode === 0o700 ? 0o755 : 0o644);
        }
        if (written.type === "symlink") assert.equal(read.linkname, written.linkname);
      }
    }),
    { numRuns: 60 },
  );
});

test("stopping early does not wait for a source that never ends", async () => {
  const tar = await tarOf([
    { path: "a", type: "file", content: "first" },
    { path: "b", type: "file", content: "second" },
  ]);
  let sent = false;
  const neverEnding = new Readable({
    read() {
      if (!sent) this.push(tar.subarray(0, 1024));
      sent = true;
    },
  });
  for await (const entry of readLayer(neverEnding)) {
    assert.equal(entry.path, "a");
    break;
  }
  assert.ok(neverEnding.destroyed);
});
