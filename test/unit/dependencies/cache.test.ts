import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors.js";
import { Digest } from "../../../src/oci/digest.js";
import { DependencyCache, type CacheEntry } from "../../../src/dependencies/cache.js";
import { defaultCacheHome, defaultDependencyCacheDir } from "../../../src/dependencies/cache-dir.js";
import { tempDir } from "../../support/tmp.js";
import { listFiles } from "./fixtures.js";

const CONTENT = "hello, dependency\n";

/** A stream that yields `chunks` and then fails, like a connection reset mid-body. */
function failingStream(chunks: string[], error: Error): Readable {
  const queue = chunks.map((chunk) => Buffer.from(chunk));
  return new Readable({
    read() {
      const next = queue.shift();
      if (next === undefined) this.destroy(error);
      else this.push(next);
    },
  });
}

test("the cache directory comes from POLYPACK_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache", () => {
  assert.equal(defaultCacheHome({ POLYPACK_CACHE_DIR: "/c/pp", XDG_CACHE_HOME: "/x" }, "/home/u"), "/c/pp");
  assert.equal(defaultCacheHome({ POLYPACK_CACHE_DIR: "", XDG_CACHE_HOME: "/x" }, "/home/u"), "/x/polypack");
  assert.equal(defaultCacheHome({ XDG_CACHE_HOME: "relative" }, "/home/u"), "/home/u/.cache/polypack");
  assert.equal(defaultCacheHome({}, "/home/u"), "/home/u/.cache/polypack");
  assert.equal(defaultDependencyCacheDir({ POLYPACK_CACHE_DIR: "/c/pp" }), "/c/pp/dependencies");
});

test("entries are stored at <algorithm>/<hex>, for sha256 and sha512", async () => {
  const cache = new DependencyCache(await tempDir());
  for (const algorithm of ["sha256", "sha512"] as const) {
    const digest = Digest.of(CONTENT, algorithm);
    assert.equal(await cache.has(digest), false);
    const entry = await cache.put(digest, Readable.from([Buffer.from(CONTENT)]));
    assert.deepEqual(entry, { path: join(cache.dir, algorithm, digest.hex), size: CONTENT.length });
    assert.equal(cache.path(digest), entry.path);
    assert.equal(await cache.has(digest), true);
    assert.equal(await readFile(entry.path, "utf8"), CONTENT);
    assert.equal(await text(await cache.open(digest)), CONTENT);
  }
  const sha256 = Digest.of(CONTENT).hex;
  const sha512 = Digest.of(CONTENT, "sha512").hex;
  assert.deepEqual(await listFiles(cache.dir), [`sha256/${sha256}`, `sha512/${sha512}`]);
});

test("a wrong checksum is refused while streaming and leaves no file behind", async () => {
  const cache = new DependencyCache(await tempDir());
  const digest = Digest.of("something else");
  await assert.rejects(cache.put(digest, Readable.from([Buffer.from(CONTENT)])), (e) => {
    assert.ok(isPolypackError(e, "DEPENDENCY_CHECKSUM_MISMATCH"));
    assert.match(e.message, new RegExp(`expected ${digest.toString()}`));
    assert.match(e.message, new RegExp(Digest.of(CONTENT).toString()));
    return true;
  });
  assert.deepEqual(await listFiles(cache.dir), []);
  assert.equal(await cache.has(digest), false);
});

test("fewer or more bytes than announced fail and leave no file behind", async () => {
  const cache = new DependencyCache(await tempDir());
  const digest = Digest.of(CONTENT);
  await assert.rejects(
    cache.put(digest, Readable.from([Buffer.from(CONTENT)]), { expectedSize: CONTENT.length + 5 }),
    (e) => isPolypackError(e, "DEPENDENCY_TRUNCATED") && /18 of the announced 23 bytes/.test(e.message),
  );
  await assert.rejects(cache.put(digest, Readable.from([Buffer.from(CONTENT)]), { expectedSize: 4 }), (e) =>
    isPolypackError(e, "DEPENDENCY_DOWNLOAD_FAILED"),
  );
  assert.deepEqual(await listFiles(cache.dir), []);
});

test("an error of the source passes through unchanged and leaves no file behind", async () => {
  const cache = new DependencyCache(await tempDir());
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  const seen: number[] = [];
  await assert.rejects(
    cache.put(Digest.of(CONTENT), failingStream(["hello, ", "dep"], reset), { onBytes: (n) => seen.push(n) }),
    (e) => e === reset,
  );
  assert.deepEqual(seen, [7, 10]);
  assert.deepEqual(await listFiles(cache.dir), []);
});

test("an entry changed on disk fails when opened and is removed", async () => {
  const cache = new DependencyCache(await tempDir());
  const digest = Digest.of(CONTENT);
  const entry = await cache.put(digest, Readable.from([Buffer.from(CONTENT)]));
  await writeFile(entry.path, CONTENT.toUpperCase());
  await assert.rejects(text(await cache.open(digest)), (e) => isPolypackError(e, "DEPENDENCY_CACHE_CORRUPT"));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await cache.has(digest), false);
  await assert.rejects(cache.open(digest), (e) => isPolypackError(e, "DEPENDENCY_NOT_CACHED"));
});

test("an unwritable cache directory is reported as such", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "sha256"), "a file where a folder should be");
  const cache = new DependencyCache(dir);
  await assert.rejects(
    cache.put(Digest.of(CONTENT), Readable.from([Buffer.from(CONTENT)])),
    (e) => isPolypackError(e, "DEPENDENCY_CACHE_WRITE_FAILED") && e.message.includes(dir),
  );
});

test("concurrent tasks for one digest share one run, also across cache objects on one directory", async () => {
  const dir = await tempDir();
  const digest = Digest.of(CONTENT);
  let runs = 0;
  const task = async (): Promise<CacheEntry> => {
    runs++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return new DependencyCache(dir).put(digest, Readable.from([Buffer.from(CONTENT)]));
  };
  const results = await Promise.all([
    new DependencyCache(dir).share(digest, task),
    new DependencyCache(dir).share(digest, task),
    new DependencyCache(dir).share(digest, task),
  ]);
  assert.equal(runs, 1);
  assert.equal(new Set(results).size, 1, "every caller gets the one result");
  // Once finished, the next call runs again.
  await new DependencyCache(dir).share(digest, task);
  assert.equal(runs, 2);
});

test("concurrent puts of the same digest both succeed and leave exactly one entry", async () => {
  const cache = new DependencyCache(await tempDir());
  const digest = Digest.of(CONTENT);
  await Promise.all([1, 2, 3].map(() => cache.put(digest, Readable.from([Buffer.from(CONTENT)]))));
  assert.deepEqual(await listFiles(cache.dir), [`sha256/${digest.hex}`]);
});

test("property: any content in any chunking is stored intact or, with a wrong checksum, not at all", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 512 }), { maxLength: 8 }),
      fc.constantFrom("sha256" as const, "sha512" as const),
      fc.boolean(),
      async (chunks, algorithm, corrupt) => {
        const cache = new DependencyCache(await tempDir());
        const content = Buffer.concat(chunks);
        const digest = Digest.of(corrupt ? Buffer.concat([content, Buffer.from([1])]) : content, algorithm);
        const put = cache.put(digest, Readable.from(chunks.map((c) => Buffer.from(c))));
        if (corrupt) {
          await assert.rejects(put, (e) => isPolypackError(e, "DEPENDENCY_CHECKSUM_MISMATCH"));
          assert.equal(await cache.has(digest), false);
        } else {
          assert.deepEqual(await readFile((await put).path), content);
        }
        assert.deepEqual(await listFiles(cache.dir), corrupt ? [] : [`${algorithm}/${digest.hex}`]);
      },
    ),
    { numRuns: 60 },
  );
});
