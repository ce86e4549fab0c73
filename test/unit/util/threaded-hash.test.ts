import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { readAhead } from "../../../src/layer/stream-util.js";
import { hashOnThread, ThreadedHash } from "../../../src/util/threaded-hash.js";

const sha256 = (...chunks: Buffer[]): string => {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
};

test("a threaded hash equals node:crypto's over chunks of any size, around the ring and past it", async () => {
  const chunks = [
    randomBytes(1),
    randomBytes(5 * 1024 * 1024 + 3),
    randomBytes(0),
    randomBytes(40 * 1024 * 1024),
  ];
  const hash = new ThreadedHash("sha256");
  for (const chunk of chunks) await hash.update(chunk);
  assert.equal(
    hash.size,
    chunks.reduce((sum, chunk) => sum + chunk.length, 0),
  );
  assert.equal(await hash.digest(), sha256(...chunks));
  await assert.rejects(hash.digest(), /already finished/);
});

test("many streams at once on the shared threads keep their bytes apart", async () => {
  const inputs = Array.from({ length: 12 }, (_, i) => [randomBytes(3_000_000 + i), randomBytes(1_000_000)]);
  const digests = await Promise.all(
    inputs.map(async (chunks, i) => {
      const hash = new ThreadedHash(i % 2 === 0 ? "sha256" : "sha512");
      for (const chunk of chunks) await hash.update(chunk);
      return hash.digest();
    }),
  );
  digests.forEach((digest, i) => {
    const expected = createHash(i % 2 === 0 ? "sha256" : "sha512");
    for (const chunk of inputs[i]!) expected.update(chunk);
    assert.equal(digest, expected.digest("hex"));
  });
  const one = randomBytes(9_000_000);
  assert.equal(await hashOnThread("blake2b512", one), createHash("blake2b512").update(one).digest("hex"));
});

test("an unknown algorithm fails the stream, and a cancelled stream leaves the threads usable", async () => {
  const bad = new ThreadedHash("no-such-hash");
  await bad.update(Buffer.from("x"));
  await assert.rejects(bad.digest());
  const dropped = new ThreadedHash("sha256");
  await dropped.update(randomBytes(20 * 1024 * 1024));
  dropped.cancel();
  dropped.cancel();
  assert.equal(await hashOnThread("sha256", Buffer.from("abc")), sha256(Buffer.from("abc")));
});

test("readAhead yields the same items in the same order, asks ahead, and passes failures on", async () => {
  let produced = 0;
  async function* numbers(count: number, failAt?: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      if (i === failAt) throw new Error(`failed at ${i}`);
      produced = i + 1;
      await new Promise((resolve) => setImmediate(resolve));
      yield i;
    }
  }
  const seen: number[] = [];
  for await (const n of readAhead(numbers(10), 3)) {
    seen.push(n);
    if (n === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(produced >= 3, `produced ${produced} while the consumer was busy`);
    }
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const partial: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const n of readAhead(numbers(10, 4), 2)) partial.push(n);
    })(),
    /failed at 4/,
  );
  assert.deepEqual(partial, [0, 1, 2, 3]);
  let closed = false;
  async function* guarded(): AsyncGenerator<number> {
    try {
      yield* numbers(100);
    } finally {
      closed = true;
    }
  }
  for await (const n of readAhead(guarded(), 2)) if (n === 1) break;
  assert.ok(closed, "stopping early closes the source");
});
