import assert from "node:assert/strict";
import { appendFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createReadStream } from "node:fs";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { EntryFile } from "../../../src/layer/entry-file.js";
import type { StreamedFileEntry } from "../../../src/layer/entry.js";
import { fileIdentity } from "../../../src/util/file-identity.js";
import { layerBytes } from "../../support/layer-bytes.js";
import { tempDir } from "../../support/tmp.js";

async function fileEntry(content: string | Buffer): Promise<StreamedFileEntry & { file: string }> {
  const file = join(await tempDir(), "dep.tgz");
  await writeFile(file, content);
  const { size } = await stat(file);
  return { path: "cnb/dep.tgz", type: "file", size, file, open: () => createReadStream(file) };
}

test("a file that changes while it is read fails with LAYER_SOURCE_CHANGED", async () => {
  const entry = await fileEntry("0123456789");
  const file = await EntryFile.open("cnb/dep.tgz", entry);
  const bytes = Buffer.alloc(10);
  await file.readInto(bytes, 0, 10, 0);
  await appendFile(entry.file, "more");
  await assert.rejects(file.finish(), (error) => isPolypackError(error, "LAYER_SOURCE_CHANGED"));
});

test("a file whose identity is no longer the verified one is refused before it is read", async () => {
  for (const [name, change] of [
    [
      "same size, mtime put back",
      async (path: string) => {
        const { atime, mtime } = await stat(path);
        await writeFile(path, "9123456789");
        await utimes(path, atime, mtime);
      },
    ],
    [
      "replaced by another file",
      async (path: string) => {
        await writeFile(`${path}.new`, "0123456789");
        await rename(`${path}.new`, path);
      },
    ],
  ] as const) {
    const entry = await fileEntry("0123456789");
    const verified = await fileIdentity(entry.file);
    await change(entry.file);
    await assert.rejects(
      layerBytes([{ ...entry, verified }], { segmentThreshold: 0 }),
      (error) => isPolypackError(error, "LAYER_SOURCE_CHANGED"),
      name,
    );
    await assert.rejects(
      layerBytes([{ ...entry, verified }]),
      (error) => isPolypackError(error, "LAYER_SOURCE_CHANGED"),
      `${name}, in a group of small files`,
    );
  }
  const entry = await fileEntry("0123456789");
  const { layer } = await layerBytes([{ ...entry, verified: await fileIdentity(entry.file) }]);
  assert.match(layer.diffID, /^sha256:/, "an unchanged file is written");
});
