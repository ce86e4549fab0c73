import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { isPolypackError, PolypackError } from "../../../src/errors/index.js";
import { readCapped } from "../../../src/util/streams.js";

/** A stream of `count` chunks of `size` bytes that records how many were read. */
function counted(count: number, size: number): { stream: Readable; read: () => number } {
  let read = 0;
  const stream = Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) {
        read++;
        yield Buffer.alloc(size, i);
      }
    })(),
  );
  return { stream, read: () => read };
}

test("readCapped returns the whole content up to and at the cap", async () => {
  assert.deepEqual(
    await readCapped(Readable.from([Buffer.from("ab"), Buffer.from("c")]), 3),
    Buffer.from("abc"),
  );
  assert.deepEqual(await readCapped(Readable.from([]), 0), Buffer.alloc(0));
});

test("a declared size over the cap fails before the source is opened or read", async () => {
  let opened = false;
  await assert.rejects(
    readCapped(
      () => {
        opened = true;
        return Readable.from([Buffer.alloc(1)]);
      },
      10,
      {
        declaredSize: 11,
        tooLarge: (size) => new PolypackError("DEPENDENCY_DOWNLOAD_FAILED", `declared ${size}`),
      },
    ),
    (error) => isPolypackError(error, "DEPENDENCY_DOWNLOAD_FAILED") && error.message === "declared 11",
  );
  assert.equal(opened, false);
  const { stream, read } = counted(4, 10);
  await assert.rejects(readCapped(stream, 10, { declaredSize: 40 }), (error) =>
    isPolypackError(error, "SIZE_EXCEEDED"),
  );
  assert.equal(read(), 0);
  assert.ok(stream.destroyed);
});

test("a source that lies about its size, or names none, is cut off one chunk past the cap", async () => {
  const { stream, read } = counted(1000, 10);
  await assert.rejects(
    readCapped(stream, 25, {
      declaredSize: 5,
      tooLarge: (size) => new PolypackError("DEPENDENCY_DOWNLOAD_FAILED", `${size}`),
    }),
    (error) => isPolypackError(error, "DEPENDENCY_DOWNLOAD_FAILED") && error.message === "undefined",
  );
  assert.ok(read() < 10, `read ${read()} chunks`);
  assert.ok(stream.destroyed);
});
