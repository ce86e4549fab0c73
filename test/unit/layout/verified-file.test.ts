import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { openVerifiedFile, readFileCapped } from "../../../src/layout/blob-files.js";
import { descriptorFor } from "../../../src/oci/descriptor.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { tempDir } from "../../support/tmp.js";

async function drain(stream: AsyncIterable<Buffer>): Promise<number> {
  let size = 0;
  for await (const chunk of stream) size += chunk.length;
  return size;
}

// Blobs of 1 MiB and more are hashed on a worker thread; these tests go through that path.
const LARGE = 3 * 1024 * 1024 + 17;

test("a large blob streams whole and verifies on the hashing thread", async () => {
  const dir = await tempDir();
  const data = randomBytes(LARGE);
  await writeFile(join(dir, "blob"), data);
  const descriptor = descriptorFor("application/octet-stream", data);
  assert.equal(await drain(openVerifiedFile(join(dir, "blob"), descriptor, "test")), LARGE);
});

test("a large blob inside an archive is read and verified from its byte range", async () => {
  const dir = await tempDir();
  const data = randomBytes(LARGE);
  await writeFile(join(dir, "archive"), Buffer.concat([Buffer.alloc(4096, 1), data, Buffer.alloc(100, 2)]));
  const descriptor = descriptorFor("application/octet-stream", data);
  const stream = openVerifiedFile(join(dir, "archive"), descriptor, "test", { start: 4096, length: LARGE });
  assert.equal(await drain(stream), LARGE);
});

test("one flipped byte in a large blob fails the stream with DIGEST_MISMATCH", async () => {
  const dir = await tempDir();
  const data = randomBytes(LARGE);
  const descriptor = descriptorFor("application/octet-stream", data);
  await writeFile(join(dir, "blob"), data);
  const file = await open(join(dir, "blob"), "r+");
  await file.write(Buffer.from([data[LARGE - 5]! ^ 0xff]), 0, 1, LARGE - 5);
  await file.close();
  await assert.rejects(drain(openVerifiedFile(join(dir, "blob"), descriptor, "test")), (e) =>
    isPolypackError(e, "DIGEST_MISMATCH"),
  );
});

test("a large blob shorter than its descriptor fails with SIZE_MISMATCH", async () => {
  const dir = await tempDir();
  const data = randomBytes(LARGE);
  const descriptor = descriptorFor("application/octet-stream", data);
  await writeFile(join(dir, "blob"), data.subarray(0, LARGE - 1000));
  await assert.rejects(drain(openVerifiedFile(join(dir, "blob"), descriptor, "test")), (e) =>
    isPolypackError(e, "SIZE_MISMATCH"),
  );
});

test("a small file is read with its cap enforced while reading, not trusted to its size (a pipe has none)", async () => {
  const dir = await tempDir();
  const fifo = join(dir, "index.json");
  execFileSync("mkfifo", [fifo]);
  // The writer fills the pipe with more than the cap; a reader that trusts the size (0) reads it all.
  const writer = createWriteStream(fifo);
  writer.on("error", () => undefined);
  writer.end(Buffer.alloc(3 * 1024 * 1024, 0x7b));
  await assert.rejects(
    readFileCapped(fifo, 64 * 1024, "layout index"),
    (e) => isPolypackError(e, "SIZE_EXCEEDED") && e.message.includes(fifo),
  );
  writer.destroy();
});

test("a small file over its cap, or missing, is SIZE_EXCEEDED or undefined", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "big"), Buffer.alloc(100));
  await assert.rejects(readFileCapped(join(dir, "big"), 99, "state file"), (e) =>
    isPolypackError(e, "SIZE_EXCEEDED"),
  );
  assert.equal((await readFileCapped(join(dir, "big"), 100, "state file"))?.length, 100);
  assert.equal(await readFileCapped(join(dir, "missing"), 100, "state file"), undefined);
});
