import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtemp, open, readFile, rm, truncate, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { tarStream, writeTar, type TarOptions } from "../../../src/layer/tar-writer.js";
import { isPolypackError } from "../../../src/errors/index.js";

async function streamed(entries: LayerEntry[], options: TarOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, options)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function written(path: string, entries: LayerEntry[], options: TarOptions = {}): Promise<Buffer> {
  const out = await open(path, "w");
  try {
    await writeTar(out, entries, options);
  } finally {
    await out.close();
  }
  return readFile(path);
}

const MiB = 1024 * 1024;

test("writeTar writes exactly the bytes of tarStream, for files on disk of any size and every other kind of entry", async () => {
  const dir = await mkdtemp(join(tmpdir(), "polypack-write-tar-"));
  try {
    // Sizes around the 4 MiB copy buffers and the 512-byte blocks, where an off-by-one would show.
    const size = fc.oneof(
      fc.constantFrom(0, 1, 511, 512, 513, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 7),
      fc.nat(70_000),
    );
    const spec = fc.record({
      files: fc.uniqueArray(
        fc.record({ name: fc.stringMatching(/^[a-z]{1,12}$/), size, seed: fc.nat(255) }),
        {
          selector: (file) => file.name,
          maxLength: 5,
        },
      ),
      inline: fc.string({ maxLength: 300 }),
      absoluteNames: fc.boolean(),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(spec, async ({ files, inline, absoluteNames }) => {
        run++;
        const entries: LayerEntry[] = [
          { path: "d", type: "directory" },
          { path: "d/inline.txt", type: "file", content: inline },
          { path: "d/link", type: "symlink", linkname: "inline.txt" },
          { path: "d/streamed", type: "file", size: 3, open: () => Readable.from([Buffer.from("abc")]) },
        ];
        for (const file of files) {
          const disk = join(dir, `${run}-${file.name}`);
          await writeFile(disk, Buffer.alloc(file.size, file.seed));
          entries.push({
            path: `d/f/${file.name}`,
            type: "file",
            size: file.size,
            file: disk,
            open: () => Readable.from([]),
          });
        }
        const expected = await streamed(entries, { absoluteNames });
        const actual = await written(join(dir, `${run}.tar`), entries, { absoluteNames });
        assert.ok(actual.equals(expected), "writeTar and tarStream differ");
      }),
      { numRuns: 12 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("writeTar fails with LAYER_SIZE_MISMATCH for a file shorter than planned and LAYER_SOURCE_CHANGED for one that changes", async () => {
  const dir = await mkdtemp(join(tmpdir(), "polypack-write-tar-"));
  try {
    const disk = join(dir, "blob");
    await writeFile(disk, Buffer.alloc(10 * MiB, 1));
    const entry = (size: number): LayerEntry => ({
      path: "blob",
      type: "file",
      size,
      file: disk,
      open: () => Readable.from([]),
    });
    await assert.rejects(written(join(dir, "a.tar"), [entry(11 * MiB)]), (error) =>
      isPolypackError(error, "LAYER_SIZE_MISMATCH"),
    );
    // Grows while it is copied: the identity taken when it was opened no longer holds.
    const growing = entry(10 * MiB);
    const out = await open(join(dir, "b.tar"), "w");
    const writing = writeTar(out, [growing]);
    await appendFile(disk, "x");
    await assert.rejects(
      writing,
      (error) =>
        isPolypackError(error, "LAYER_SOURCE_CHANGED") || isPolypackError(error, "LAYER_SIZE_MISMATCH"),
    );
    await out.close();
    await truncate(disk, 10 * MiB);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
