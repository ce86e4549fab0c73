import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parseDependencies } from "../../../src/buildpack/dependencies.js";
import { makeTarget } from "../../../src/buildpack/targets.js";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { Digest } from "../../../src/oci/digest.js";
import { DependencyCache } from "../../../src/dependencies/cache.js";
import { downloadDependencies, type DependencyEvent } from "../../../src/dependencies/download.js";
import { requestsForTargets } from "../../../src/dependencies/plan.js";
import { tempDir } from "../../support/tmp.js";
import { checksumOf, dependency, listFiles, writeFiles } from "./fixtures.js";

/** The example buildpack shipped in the repository, found by walking up from this compiled file. */
function exampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "examples", "hello-multiarch", "buildpack.toml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples/hello-multiarch not found");
    dir = parent;
  }
  return join(dir, "examples", "hello-multiarch");
}

/** Records events and checks every started file is done before the call returns. */
function recorder(): {
  events: DependencyEvent[];
  onEvent: (event: DependencyEvent) => void;
  of: (type: string) => DependencyEvent[];
} {
  const events: DependencyEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    of: (type) => events.filter((e) => e.type === type),
  };
}

test("the example buildpack's relative file: dependencies are cached once per checksum", async () => {
  const base = exampleDir();
  const dependencies = parseDependencies(await readFile(join(base, "buildpack.toml"), "utf8"));
  const targets = [makeTarget({ os: "linux", arch: "amd64" }), makeTarget({ os: "linux", arch: "arm64" })];
  const requests = requestsForTargets(dependencies, targets);
  assert.equal(requests.length, 6, "two runtimes per target plus the shared docs for each");
  const cache = new DependencyCache(await tempDir());
  const first = recorder();
  const results = await downloadDependencies(requests, { baseDir: base, cache, onEvent: first.onEvent });

  assert.equal(results.length, 5);
  for (const result of results) {
    assert.equal(result.cached, false);
    const bytes = await readFile(result.path);
    assert.equal(result.size, bytes.length);
    assert.ok(Digest.of(bytes).equals(result.dependency.checksum!));
    assert.ok(result.digest.equals(result.dependency.checksum!));
  }
  const docs = results.find((r) => r.dependency.id === "hello-docs");
  assert.deepEqual(docs?.targets, ["linux/amd64", "linux/arm64"]);
  const arm = results.filter((r) => r.targets.join() === "linux/arm64").map((r) => r.dependency.version);
  assert.deepEqual(arm, ["1.0.0", "1.1.0"]);
  assert.equal(first.of("start").length, 5);
  assert.equal(first.of("done").length, 5);
  assert.ok(first.of("done").every((e) => e.bytesDone === e.size));
  assert.equal(first.of("start").find((e) => e.id === "hello-docs")?.target, "linux/amd64, linux/arm64");
  assert.ok(
    first.of("start").some((e) => e.url === "file:dependencies-src/hello-runtime-1.0.0-linux-amd64.tgz"),
  );
  assert.equal((await listFiles(cache.dir)).length, 5);

  const second = recorder();
  const again = await downloadDependencies(requests, { baseDir: base, cache, onEvent: second.onEvent });
  assert.ok(again.every((r) => r.cached));
  assert.deepEqual(
    again.map((r) => r.path),
    results.map((r) => r.path),
  );
  assert.deepEqual(
    second.events.map((e) => e.type),
    ["cached", "cached", "cached", "cached", "cached"],
  );
});

test("sha512 checksums and the legacy sha256 key both verify, with absolute file URIs", async () => {
  const dir = await tempDir();
  await writeFiles(dir, { "a.tgz": "content of a", "b.tgz": "content of b" });
  const legacy = dependency({
    id: "a",
    uri: `file://${dir}/a.tgz`,
    sha256: checksumOf("content of a").slice(7),
  });
  const sha512 = dependency({
    id: "b",
    uri: `file://${dir}/b.tgz`,
    checksum: checksumOf("content of b", "sha512"),
  });
  assert.equal(legacy.checksumKey, "sha256");
  const cache = new DependencyCache(join(dir, "cache"));
  const results = await downloadDependencies(
    [
      { dependency: legacy, target: "linux/amd64" },
      { dependency: sha512, target: "linux/amd64" },
    ],
    { baseDir: "/nonexistent", cache },
  );
  assert.deepEqual(
    results.map((r) => r.digest.algorithm),
    ["sha256", "sha512"],
  );
  assert.equal(await readFile(join(cache.dir, "sha512", sha512.checksum!.hex), "utf8"), "content of b");
});

test("a dependency without a checksum is refused before anything is downloaded", async () => {
  const dir = await tempDir();
  await writeFiles(dir, { "ok.tgz": "fine" });
  const ok = dependency({ id: "ok", uri: "file:ok.tgz", checksum: checksumOf("fine") });
  const unsigned = dependency({
    id: "hello-runtime",
    version: "1.1.0",
    uri: "https://example.com/hello.tgz",
  });
  const cache = new DependencyCache(join(dir, "cache"));
  const requests = [
    { dependency: ok, target: "linux/amd64" },
    { dependency: unsigned, target: "linux/arm64" },
  ];
  await assert.rejects(downloadDependencies(requests, { baseDir: dir, cache }), (e) => {
    assert.ok(isPolypackError(e, "DEPENDENCY_CHECKSUM_MISSING"));
    for (const part of ["hello-runtime", "1.1.0", "linux/arm64", "https://example.com/hello.tgz"]) {
      assert.ok(e.message.includes(part), `${part} in ${e.message}`);
    }
    return true;
  });
  assert.deepEqual(await listFiles(cache.dir), []);
});

test("a missing file and a wrong checksum name the dependency, target and URI, and leave nothing", async () => {
  const dir = await tempDir();
  await writeFiles(dir, { "deps/x.tgz": "actual content" });
  const cache = new DependencyCache(join(dir, "cache"));
  const cases: { uri: string; code: ErrorCode; detail: string }[] = [
    {
      uri: "file:deps/missing.tgz",
      code: "DEPENDENCY_DOWNLOAD_FAILED",
      detail: join(dir, "deps/missing.tgz"),
    },
    { uri: "file:deps/x.tgz", code: "DEPENDENCY_CHECKSUM_MISMATCH", detail: checksumOf("actual content") },
  ];
  for (const { uri, code, detail } of cases) {
    const bad = dependency({ id: "hello-runtime", version: "9.9.9", uri, checksum: checksumOf("expected") });
    await assert.rejects(
      downloadDependencies([{ dependency: bad, target: "linux/arm64/v8" }], { baseDir: dir, cache }),
      (e) => {
        assert.ok(isPolypackError(e, code), String(e));
        for (const part of ["hello-runtime 9.9.9 for linux/arm64/v8", uri, detail]) {
          assert.ok(e.message.includes(part), `${part} in ${e.message}`);
        }
        return true;
      },
    );
  }
  assert.deepEqual(await listFiles(cache.dir), []);
});

test("URLs in errors lose their credentials, and connection failures are retried with the injected sleep", async () => {
  const port = await closedPort();
  const uri = `http://alice:s3cret@127.0.0.1:${port}/hello.tgz?token=abc123`;
  const dep = dependency({ id: "hello-runtime", version: "1.0.0", uri, checksum: checksumOf("x") });
  const sleeps: number[] = [];
  await assert.rejects(
    downloadDependencies([{ dependency: dep, target: "linux/amd64" }], {
      baseDir: "/",
      cache: new DependencyCache(await tempDir()),
      retries: 2,
      retryDelayMs: 10,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    }),
    (e) => {
      assert.ok(isPolypackError(e, "DEPENDENCY_DOWNLOAD_FAILED"), String(e));
      assert.doesNotMatch(e.message, /alice|s3cret|abc123/);
      assert.ok(e.message.includes(`hello-runtime 1.0.0 for linux/amd64`), e.message);
      assert.ok(e.message.includes(`http://127.0.0.1:${port}/hello.tgz?token=REDACTED`), e.message);
      return true;
    },
  );
  assert.deepEqual(sleeps, [10, 20]);
});

test("concurrent calls for the same checksum share one download", async () => {
  const dir = await tempDir();
  await writeFiles(dir, { "big.bin": Buffer.alloc(4 * 1024 * 1024, 7) });
  const dep = dependency({ uri: "file:big.bin", checksum: checksumOf(Buffer.alloc(4 * 1024 * 1024, 7)) });
  const cache = new DependencyCache(join(dir, "cache"));
  const seen = recorder();
  const [a, b, c] = await Promise.all(
    ["linux/amd64", "linux/arm64", "linux/arm/v7"].map((target) =>
      downloadDependencies([{ dependency: dep, target }], { baseDir: dir, cache, onEvent: seen.onEvent }),
    ),
  );
  assert.equal(seen.of("start").length, 1);
  assert.equal(seen.of("done").length, 1);
  assert.equal(seen.of("cached").length, 2);
  assert.equal([a, b, c].filter((r) => r?.[0]?.cached === false).length, 1);
  assert.deepEqual(await listFiles(cache.dir), [`sha256/${dep.checksum!.hex}`]);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
