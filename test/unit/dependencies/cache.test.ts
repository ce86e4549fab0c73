import assert from "node:assert/strict";
import { readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
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
    assert.deepEqual(
      { path: entry.path, size: entry.size },
      { path: join(cache.dir, algorithm, digest.hex), size: CONTENT.length },
    );
    assert.equal(entry.identity.size, CONTENT.length);
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

test("a cached file that was truncated, emptied or changed in place is never handed out: it is removed", async () => {
  const damages: [string, (path: string) => Promise<void>][] = [
    ["truncated", async (path) => writeFile(path, CONTENT.slice(0, 5))],
    ["emptied", async (path) => writeFile(path, "")],
    [
      "flipped, same size and mtime",
      async (path) => {
        const { atime, mtime } = await stat(path);
        const bytes = await readFile(path);
        bytes[3] = bytes[3]! ^ 0x20;
        await writeFile(path, bytes);
        await utimes(path, atime, mtime);
      },
    ],
  ];
  for (const [name, damage] of damages) {
    const discarded: string[] = [];
    const cache = new DependencyCache(await tempDir(), { onDiscard: (path) => discarded.push(path) });
    const digest = Digest.of(CONTENT);
    const stored = await cache.put(digest, Readable.from([Buffer.from(CONTENT)]));
    assert.ok(await cache.entry(digest), `${name}: a good file is handed out`);
    await damage(stored.path);
    assert.equal(await cache.entry(digest), undefined, name);
    assert.deepEqual(discarded, [stored.path], `${name}: the discard is reported`);
    assert.equal(await cache.has(digest), false, `${name}: the bad file is gone`);
  }
});

test("a file found correct once it has settled is stamped, and a later change in place still shows", async () => {
  const cache = new DependencyCache(await tempDir());
  const digest = Digest.of(CONTENT);
  const stored = await cache.put(digest, Readable.from([Buffer.from(CONTENT)]));
  const stamp = join(cache.dir, "verified", "sha256", digest.hex);
  await cache.entry(digest);
  await assert.rejects(stat(stamp), "a file written just now is not stamped yet");
  // Change times are coarse: only a file left alone for two seconds can be vouched for by its stat.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const checked = await cache.entry(digest);
  assert.deepEqual(JSON.parse(await readFile(stamp, "utf8")), checked?.identity);
  assert.deepEqual(await cache.entry(digest), checked, "the stamp stands for the file as it is");
  const { atime, mtime } = await stat(stored.path);
  const bytes = await readFile(stored.path);
  bytes[0] = bytes[0]! ^ 0x01;
  await writeFile(stored.path, bytes);
  await utimes(stored.path, atime, mtime);
  assert.equal(await cache.entry(digest), undefined, "the change time gives the edit away");
});
