/**
 * Every http(s) download has a size cap, enforced while it streams: a server that never stops (or
 * announces more than the cap) fails the download with SIZE_EXCEEDED, naming the redacted URL and
 * the cap, and leaves no file in the cache or beside the output. A checksum alone does not stop
 * this: it is compared only at the end.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { lifecycleResolver } from "../../../src/builder/lifecycle-source.js";
import { NewFileFetcher } from "../../../src/dependencies/authoring/fetch-new.js";
import { DependencyCache } from "../../../src/dependencies/cache.js";
import { DEFAULT_MAX_DOWNLOAD_BYTES, maxDownloadBytes } from "../../../src/dependencies/download-cap.js";
import { downloadDependencies } from "../../../src/dependencies/download.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { Platform } from "../../../src/oci/platform.js";
import { downloadBuildpack } from "../../../src/package/http-download.js";
import { tempDir } from "../../support/tmp.js";
import { DownloadServer, ENDLESS_ERROR_PATH, ENDLESS_PATH, HUGE_PATH } from "./endless-server.js";
import { checksumOf, dependency, listFiles } from "./fixtures.js";

const CAP = 1024 * 1024;

/** Asserts a SIZE_EXCEEDED that names the URL without its password, and the cap. */
function tooLarge(url: string, announced = false): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isPolypackError(error, "SIZE_EXCEEDED"), String(error));
    assert.ok(error.message.includes(url.replace("user:secret@", "")), error.message);
    assert.ok(!error.message.includes("secret"), error.message);
    assert.ok(error.message.includes(`${CAP}-byte (1 MiB) cap`), error.message);
    if (announced) assert.match(error.message, /announces 68719476736 bytes/);
    assert.match(error.hint, /POLYPACK_MAX_DOWNLOAD_SIZE/);
    return true;
  };
}

describe("maxDownloadBytes", () => {
  test("2 GiB by default, POLYPACK_MAX_DOWNLOAD_SIZE in bytes or IEC units, an explicit value first", () => {
    assert.equal(maxDownloadBytes(undefined, {}), 2 * 1024 ** 3);
    assert.equal(DEFAULT_MAX_DOWNLOAD_BYTES, 2147483648);
    assert.equal(maxDownloadBytes(undefined, { POLYPACK_MAX_DOWNLOAD_SIZE: "4GiB" }), 4 * 1024 ** 3);
    assert.equal(maxDownloadBytes(undefined, { POLYPACK_MAX_DOWNLOAD_SIZE: " 500 mib " }), 500 * 1024 ** 2);
    assert.equal(maxDownloadBytes(undefined, { POLYPACK_MAX_DOWNLOAD_SIZE: "12345" }), 12345);
    assert.equal(maxDownloadBytes(undefined, { POLYPACK_MAX_DOWNLOAD_SIZE: "" }), DEFAULT_MAX_DOWNLOAD_BYTES);
    assert.equal(maxDownloadBytes(7, { POLYPACK_MAX_DOWNLOAD_SIZE: "4GiB" }), 7);
  });

  test("a value that is not a size is refused, not ignored", () => {
    for (const value of ["lots", "0", "4GB", "-1", "1.5GiB", "99999999999TiB"]) {
      assert.throws(
        () => maxDownloadBytes(undefined, { POLYPACK_MAX_DOWNLOAD_SIZE: value }),
        (error) =>
          isPolypackError(error, "FLAG_INVALID") && error.message.includes("POLYPACK_MAX_DOWNLOAD_SIZE"),
        value,
      );
    }
  });
});

describe("downloads over the cap", () => {
  let server: DownloadServer;
  let auth: string;
  before(async () => {
    server = await new DownloadServer().start();
    auth = server.base.replace("http://", "http://user:secret@");
  });
  after(() => server.stop());

  test("a dependency with a checksum: an endless body stops at the cap, nothing is cached, no retry", async () => {
    const cache = new DependencyCache(await tempDir());
    const url = `${auth}${ENDLESS_PATH}`;
    const entry = dependency({ id: "endless", uri: url, checksum: checksumOf("anything") });
    server.requests.clear();
    await assert.rejects(
      downloadDependencies([{ dependency: entry, target: "linux/amd64" }], {
        baseDir: "/nonexistent",
        cache,
        maxBytes: CAP,
        retryDelayMs: 1,
      }),
      (error) => tooLarge(url)(error) && /endless 1\.2\.3 for linux\/amd64/.test((error as Error).message),
    );
    assert.equal(server.requests.get(ENDLESS_PATH), 1, "a download over the cap is not retried");
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("a dependency whose Content-Length is over the cap fails before its body is read", async () => {
    const cache = new DependencyCache(await tempDir());
    const url = `${auth}${HUGE_PATH}`;
    const entry = dependency({ id: "huge", uri: url, checksum: checksumOf("anything") });
    await assert.rejects(
      downloadDependencies([{ dependency: entry, target: "linux/amd64" }], {
        baseDir: "/nonexistent",
        cache,
        maxBytes: CAP,
      }),
      tooLarge(url, true),
    );
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("an error answer whose page never ends is dropped unread, not drained forever", async () => {
    const cache = new DependencyCache(await tempDir());
    const url = `${auth}${ENDLESS_ERROR_PATH}`;
    const entry = dependency({ id: "broken", uri: url, checksum: checksumOf("anything") });
    server.requests.clear();
    await assert.rejects(
      downloadDependencies([{ dependency: entry, target: "linux/amd64" }], {
        baseDir: "/nonexistent",
        cache,
        maxBytes: CAP,
        retryDelayMs: 1,
      }),
      (error) => isPolypackError(error, "DEPENDENCY_DOWNLOAD_FAILED") && /HTTP 500/.test(error.message),
    );
    assert.equal(server.requests.get(ENDLESS_ERROR_PATH), 3, "a 500 is retried twice");
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("the cap comes from POLYPACK_MAX_DOWNLOAD_SIZE when no option gives it", async () => {
    const cache = new DependencyCache(await tempDir());
    const url = `${auth}${ENDLESS_PATH}`;
    const entry = dependency({ id: "endless", uri: url, checksum: checksumOf("anything") });
    const saved = process.env["POLYPACK_MAX_DOWNLOAD_SIZE"];
    process.env["POLYPACK_MAX_DOWNLOAD_SIZE"] = "1MiB";
    try {
      await assert.rejects(
        downloadDependencies([{ dependency: entry, target: "linux/amd64" }], {
          baseDir: "/nonexistent",
          cache,
        }),
        tooLarge(url),
      );
    } finally {
      if (saved === undefined) delete process.env["POLYPACK_MAX_DOWNLOAD_SIZE"];
      else process.env["POLYPACK_MAX_DOWNLOAD_SIZE"] = saved;
    }
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("a buildpack archive uri (no checksum): endless or announced too large, nothing in the cache or scratch folder", async () => {
    for (const path of [ENDLESS_PATH, HUGE_PATH]) {
      const cacheDir = await tempDir();
      const scratch = await tempDir();
      const url = `${auth}${path}`;
      await assert.rejects(
        downloadBuildpack(new URL(url), scratch, "package.toml [[dependencies]] 1", {
          cacheDir,
          maxBytes: CAP,
        }),
        (error) =>
          tooLarge(url, path === HUGE_PATH)(error) &&
          (error as Error).message.startsWith("package.toml [[dependencies]] 1: cannot download"),
      );
      assert.deepEqual(await listFiles(cacheDir), [], path);
      assert.deepEqual(await listFiles(scratch), [], path);
    }
  });

  test("dependency add: a new file over the cap is not stored", async () => {
    const cache = new DependencyCache(await tempDir());
    const fetcher = new NewFileFetcher({ cache, baseDir: "/nonexistent", maxBytes: CAP, retryDelayMs: 1 });
    const url = `${auth}${ENDLESS_PATH}`;
    try {
      await assert.rejects(
        fetcher.fetch(url, { id: "endless", version: "1.0.0", target: "linux/amd64", url }),
        (error) => isPolypackError(error, "SIZE_EXCEEDED") && error.message.includes(`${CAP}-byte`),
      );
    } finally {
      await fetcher.close();
    }
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("builder create's lifecycle release: an endless archive from the mirror stops at the cap", async () => {
    const name = "lifecycle-v0.20.5+linux.x86-64.tgz";
    const hex = createHash("sha256").update("the real archive").digest("hex");
    server.files.set("/mirror/v0.20.5/lifecycle-v0.20.5-checksums.txt", Buffer.from(`${hex}  ${name}\n`));
    server.alias(`/mirror/v0.20.5/${encodeURIComponent(name)}`, ENDLESS_PATH);
    server.alias(`/mirror/v0.20.5/${name}`, ENDLESS_PATH);
    const cacheDir = await tempDir();
    const resolve = lifecycleResolver({
      lifecycle: { version: "0.20.5" },
      dir: await tempDir(),
      mirror: `${auth}/mirror`,
      openSource: () => Promise.reject(new Error("no images here")),
      download: { cache: new DependencyCache(cacheDir), maxBytes: CAP, retryDelayMs: 1 },
    });
    await assert.rejects(resolve(Platform.parse("linux/amd64")), (error) =>
      tooLarge(`${auth}/mirror/v0.20.5/${name}`)(error),
    );
    assert.deepEqual(await listFiles(cacheDir), []);
  });
});
