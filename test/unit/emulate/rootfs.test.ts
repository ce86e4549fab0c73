import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { describe, it } from "node:test";
import { resolveInside } from "../../../src/emulate/inside.js";
import { applyLayer, cachedRootfs } from "../../../src/emulate/rootfs.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { memoryLayer } from "../../support/base-images.js";
import { tempDir } from "../../support/tmp.js";

async function apply(root: string, entries: LayerEntry[]): Promise<void> {
  const layer = await memoryLayer(entries);
  await applyLayer(readLayer(await layer.open()), root);
}

// A tar written with tar-stream directly: polypack's own writer refuses such hard links.
async function rawTar(entries: { name: string; type: "link"; linkname: string }[]): Promise<Readable> {
  const tar = pack();
  for (const entry of entries) tar.entry({ ...entry, mode: 0o644 });
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  return Readable.from([Buffer.concat(chunks)]);
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

describe("root filesystems from layers", () => {
  it("applies whiteouts and opaque folders of later layers", async () => {
    const root = join(await tempDir(), "root");
    await mkdir(root);
    await apply(root, [
      { type: "directory", path: "etc" },
      { type: "file", path: "etc/keep", content: "keep" },
      { type: "file", path: "etc/gone", content: "gone" },
      { type: "directory", path: "opt" },
      { type: "file", path: "opt/old", content: "old" },
    ]);
    await apply(root, [
      { type: "file", path: "etc/.wh.gone", content: "" },
      { type: "directory", path: "opt" },
      { type: "file", path: "opt/.wh..wh..opq", content: "" },
      { type: "file", path: "opt/new", content: "new" },
      { type: "file", path: "etc/keep", content: "replaced" },
    ]);
    assert.equal(await readFile(join(root, "etc/keep"), "utf8"), "replaced");
    assert.equal(await exists(join(root, "etc/gone")), false);
    assert.equal(await exists(join(root, "etc/.wh.gone")), false);
    assert.deepEqual((await readdir(join(root, "opt"))).sort(), ["new"]);
  });

  it("keeps every path inside the root: links with .. or absolute targets resolve inside it", async () => {
    const dir = await tempDir();
    const root = join(dir, "root");
    const outside = join(dir, "outside");
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, "secret"), "host file");
    // Links that point out of the root on the host, then entries written through them.
    await apply(root, [
      { type: "symlink", path: "up", linkname: "../../../../../../.." + outside },
      { type: "symlink", path: "abs", linkname: outside },
      { type: "directory", path: "etc" },
      { type: "file", path: "etc/passwd", content: "image passwd" },
      { type: "symlink", path: "etcl", linkname: "/etc" },
    ]);
    await apply(root, [
      { type: "file", path: "up/planted", content: "x" },
      { type: "file", path: "abs/planted", content: "y" },
      { type: "file", path: "abs/.wh.secret", content: "" },
    ]);
    // Hard links whose target path runs through those links: made to the files inside the root.
    await applyLayer(
      readLayer(
        await rawTar([
          { name: "pw", type: "link", linkname: "etcl/passwd" },
          { name: "stolen", type: "link", linkname: "abs/secret" },
        ]),
      ),
      root,
    ).then(
      () => assert.fail("a hard link to a file outside the root was made"),
      (error: unknown) =>
        assert.match(String(error), /hard link stolen points at abs\/secret, which is not in the image/),
    );
    assert.deepEqual(await readdir(outside), ["secret"]);
    assert.equal(await readFile(join(outside, "secret"), "utf8"), "host file");
    assert.equal(await readFile(join(root, outside, "planted"), "utf8"), "x");
    assert.equal(await readlink(join(root, "abs")), outside);
    assert.equal((await stat(join(root, "pw"))).ino, (await stat(join(root, "etc/passwd"))).ino);
    // abs/secret is looked up inside the root, where there is none: the host file is never linked.
    assert.equal(await exists(join(root, "stolen")), false);
    assert.equal(await resolveInside(root, "/etcl/passwd", { followLast: true }), join(root, "etc/passwd"));
    assert.equal(await resolveInside(root, "../../..", { followLast: true }), root);
  });

  it("caches a root filesystem by manifest digest and reuses only a complete entry", async () => {
    const cache = join(await tempDir(), "cache");
    const image = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), {
      add: [{ layer: await memoryLayer([{ type: "file", path: "hello", content: "hi" }]) }],
    });
    const first = await cachedRootfs(image, cache);
    assert.equal(first.reused, false);
    assert.equal(await readFile(join(first.path, "hello"), "utf8"), "hi");
    const second = await cachedRootfs(image, cache);
    assert.deepEqual(second, { path: first.path, reused: true });
    // An entry without its marker (a crash) is made again, not trusted.
    const { rm } = await import("node:fs/promises");
    await rm(join(first.path, ".polypack-rootfs.json"));
    await writeFile(join(first.path, "hello"), "tampered");
    const third = await cachedRootfs(image, cache);
    assert.equal(third.reused, false);
    assert.equal(await readFile(join(third.path, "hello"), "utf8"), "hi");
  });
});
