/**
 * Offline dependency downloads against a real HTTP server on 127.0.0.1: redirects, Basic auth from
 * the URL, retries of 500s and cut connections, checksum and size failures, slow and stalled
 * bodies, the concurrency limit, a large file with flat memory, and the cache afterwards holding only
 * complete, correct entries, so that a second run makes no request at all.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { isPolypackError, type ErrorCode } from "../../src/errors/index.js";
import { DependencyCache } from "../../src/dependencies/cache.js";
import {
  downloadDependencies,
  type DependencyEvent,
  type DownloadOptions,
} from "../../src/dependencies/download.js";
import type { DependencyRequest } from "../../src/dependencies/plan.js";
import { tempDir } from "../support/tmp.js";
import { quick } from "../support/tools.js";
import { checksumOf, dependency, listFiles } from "../unit/dependencies/fixtures.js";

const FILES: Record<string, Buffer> = Object.fromEntries(
  ["alpha", "beta", "gamma", "delta", "s1", "s2", "s3", "s4", "s5"].map((name, i) => [
    name,
    Buffer.from(`${name} `.repeat(2000 + i * 100)),
  ]),
);
const BIG_CHUNK = 64 * 1024;
const BIG_CHUNKS = 1536; // 96 MiB

/** The large file, generated chunk by chunk on both sides so neither holds it whole. */
function* bigChunks(): Generator<Buffer> {
  for (let i = 0; i < BIG_CHUNKS; i++) yield Buffer.alloc(BIG_CHUNK, i % 251);
}

/** A file server with failure routes; counts requests per path and slow responses at once. */
class FileServer {
  readonly counts = new Map<string, number>();
  readonly authorizations: (string | undefined)[] = [];
  slowInFlight = 0;
  maxSlowInFlight = 0;
  private readonly servers: Server[] = [];

  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? "/";
    const seen = this.count(path) + 1;
    this.counts.set(path, seen);
    const [, route = "", a = "", b = ""] = path.split("/");
    const file = FILES[a];
    const send = (body: Buffer): void => {
      res.writeHead(200, { "content-length": body.length }).end(body);
    };
    switch (route) {
      case "files":
        return file ? send(file) : void res.writeHead(404).end("not found");
      case "flaky":
        return seen === 1 ? void res.writeHead(500).end("try again") : send(file!);
      case "always-500":
        return void res.writeHead(503).end("down");
      case "wrong":
        return send(Buffer.from("this is not the file you are looking for"));
      case "truncated":
        res.writeHead(200, { "content-length": file!.length });
        res.write(file!.subarray(0, 1000), () => res.destroy());
        return;
      case "redirect": {
        const hops = Number(a);
        res.writeHead(302, { location: hops > 1 ? `/redirect/${hops - 1}/${b}` : `/files/${b}` }).end();
        return;
      }
      case "to-other-origin":
        return void res.writeHead(307, { location: `${decodeURIComponent(b)}/auth/${a}` }).end();
      case "auth":
        this.authorizations.push(req.headers.authorization);
        if (req.headers.authorization !== `Basic ${Buffer.from("alice:s3cret").toString("base64")}`) {
          return void res.writeHead(401).end();
        }
        return send(file!);
      case "slow":
        this.slowInFlight++;
        this.maxSlowInFlight = Math.max(this.maxSlowInFlight, this.slowInFlight);
        res.on("close", () => this.slowInFlight--);
        void this.slowly(res, file!, 8, 25);
        return;
      case "stall":
        res.writeHead(200, { "content-length": file!.length });
        res.write(file!.subarray(0, 100));
        return;
      case "big":
        res.writeHead(200, { "content-length": BIG_CHUNK * BIG_CHUNKS });
        void this.streamBig(res);
        return;
      default:
        res.writeHead(404).end();
    }
  }

  private async slowly(res: ServerResponse, body: Buffer, pieces: number, gapMs: number): Promise<void> {
    res.writeHead(200, { "content-length": body.length });
    const step = Math.ceil(body.length / pieces);
    // The last piece ends the response, so the server counts it finished when the client does.
    let at = 0;
    for (; at + step < body.length && !res.destroyed; at += step) {
      res.write(body.subarray(at, at + step));
      await delay(gapMs);
    }
    res.end(body.subarray(at));
  }

  private async streamBig(res: ServerResponse): Promise<void> {
    for (const chunk of bigChunks()) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  }
}

const server = new FileServer();
let base = "";
let otherOrigin = "";

before(async () => {
  base = await server.start();
  otherOrigin = await server.start();
});
after(() => server.stop());

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A request for `path` on the server whose checksum is that of FILES[name] (or `checksum`). */
function requestFor(
  path: string,
  name: string,
  target = "linux/amd64",
  checksum = checksumOf(FILES[name]!),
): DependencyRequest {
  return {
    dependency: dependency({ id: `dep-${name}`, version: "2.0.1", uri: `${base}${path}`, checksum }),
    target,
  };
}

/** Options with a fresh cache, a recorded no-wait sleep and recorded events. */
async function setup(extra: Partial<DownloadOptions> = {}): Promise<{
  options: DownloadOptions;
  cache: DependencyCache;
  sleeps: number[];
  events: DependencyEvent[];
}> {
  const cache = new DependencyCache(await tempDir());
  const sleeps: number[] = [];
  const events: DependencyEvent[] = [];
  const options: DownloadOptions = {
    baseDir: "/",
    cache,
    retryDelayMs: 50,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    onEvent: (event) => events.push(event),
    ...extra,
  };
  return { options, cache, sleeps, events };
}

/** Every file in the cache is `<algorithm>/<hex>` of its own content, and nothing else is there. */
async function assertCacheSound(cache: DependencyCache): Promise<string[]> {
  const names = await listFiles(cache.dir);
  for (const name of names) {
    const [algorithm, hex, ...rest] = name.split("/");
    assert.equal(algorithm, "sha256", name);
    assert.equal(rest.length, 0, name);
    const digest = createHash("sha256");
    for await (const chunk of createReadStream(join(cache.dir, name))) digest.update(chunk as Buffer);
    assert.equal(digest.digest("hex"), hex, `${name} holds other content`);
  }
  return names;
}

/** Expects a rejection with `code` whose message names the dependency, target and URL. */
async function rejectsNaming(
  promise: Promise<unknown>,
  code: ErrorCode,
  parts: readonly string[],
): Promise<void> {
  await assert.rejects(promise, (e) => {
    assert.ok(isPolypackError(e, code), `expected ${code}, got ${String(e)}`);
    for (const part of parts) assert.ok(e.message.includes(part), `${JSON.stringify(part)} in ${e.message}`);
    return true;
  });
}

describe("dependency downloads over HTTP", () => {
  test("downloads, follows redirects, authenticates from the URL; a second run makes no request", async () => {
    const { options, cache } = await setup();
    const authUrl = `${base.replace("http://", "http://alice:s3cret@")}/auth/delta`;
    const requests = [
      requestFor("/files/alpha", "alpha", "linux/amd64"),
      requestFor("/files/alpha", "alpha", "linux/arm64"),
      requestFor("/redirect/3/beta", "beta"),
      {
        dependency: dependency({ id: "dep-delta", uri: authUrl, checksum: checksumOf(FILES["delta"]!) }),
        target: "linux/arm64",
      },
    ];
    const before = server.total();
    const results = await downloadDependencies(requests, options);
    assert.equal(
      server.total() - before,
      1 + 4 + 1,
      "alpha once for both targets, beta after 3 redirects, delta",
    );
    assert.deepEqual(
      results.map((r) => [r.dependency.id, r.targets, r.cached, r.size]),
      [
        ["dep-alpha", ["linux/amd64", "linux/arm64"], false, FILES["alpha"]!.length],
        ["dep-beta", ["linux/amd64"], false, FILES["beta"]!.length],
        ["dep-delta", ["linux/arm64"], false, FILES["delta"]!.length],
      ],
    );
    assert.deepEqual(
      (await assertCacheSound(cache)).sort(),
      ["alpha", "beta", "delta"].map((n) => `sha256/${sha256(FILES[n]!)}`).sort(),
    );

    const afterFirst = server.total();
    const again = await downloadDependencies(requests, options);
    assert.equal(server.total(), afterFirst, "the second run is served from the cache");
    assert.ok(again.every((r) => r.cached));
  });

  test("credentials are not sent to another origin after a redirect", async () => {
    const { options } = await setup({ retries: 0 });
    const uri = `${base.replace("http://", "http://alice:s3cret@")}/to-other-origin/delta/${encodeURIComponent(otherOrigin)}`;
    const seen = server.authorizations.length;
    await rejectsNaming(
      downloadDependencies(
        [
          {
            dependency: dependency({ id: "dep-delta", uri, checksum: checksumOf(FILES["delta"]!) }),
            target: "linux/amd64",
          },
        ],
        options,
      ),
      "DEPENDENCY_DOWNLOAD_FAILED",
      ["dep-delta 1.2.3 for linux/amd64", "HTTP 401", `redirected to ${otherOrigin}/auth/delta`],
    );
    assert.deepEqual(server.authorizations.slice(seen), [undefined]);
  });

  test("404 fails at once with the dependency, target and URL named", async () => {
    const { options, cache, sleeps } = await setup();
    await rejectsNaming(
      downloadDependencies([requestFor("/files/nope", "alpha", "linux/arm64")], options),
      "DEPENDENCY_DOWNLOAD_FAILED",
      ["dep-alpha 2.0.1 for linux/arm64", `${base}/files/nope`, "HTTP 404"],
    );
    assert.equal(server.count("/files/nope"), 1);
    assert.deepEqual(sleeps, []);
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("a 500 followed by a 200 is retried after a backoff", async () => {
    const { options, cache, sleeps } = await setup();
    const [result] = await downloadDependencies([requestFor("/flaky/gamma", "gamma")], options);
    assert.equal(server.count("/flaky/gamma"), 2);
    assert.deepEqual(sleeps, [50]);
    assert.equal(result?.size, FILES["gamma"]!.length);
    assert.equal((await assertCacheSound(cache)).length, 1);
  });

  test("persistent 5xx answers give up after the retries", async () => {
    const { options, cache, sleeps } = await setup({ retries: 2 });
    await rejectsNaming(
      downloadDependencies([requestFor("/always-500/x", "alpha")], options),
      "DEPENDENCY_DOWNLOAD_FAILED",
      ["dep-alpha 2.0.1 for linux/amd64", `${base}/always-500/x`, "HTTP 503"],
    );
    assert.equal(server.count("/always-500/x"), 3);
    assert.deepEqual(sleeps, [50, 100]);
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("a wrong body is a checksum mismatch, not retried, and leaves nothing in the cache", async () => {
    const { options, cache } = await setup();
    await rejectsNaming(
      downloadDependencies([requestFor("/wrong/beta", "beta", "linux/arm64/v8")], options),
      "DEPENDENCY_CHECKSUM_MISMATCH",
      ["dep-beta 2.0.1 for linux/arm64/v8", `${base}/wrong/beta`, `expected ${checksumOf(FILES["beta"]!)}`],
    );
    assert.equal(server.count("/wrong/beta"), 1);
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("a body cut short of its Content-Length is reported as truncated after the retries", async () => {
    const { options, cache, sleeps } = await setup({ retries: 1 });
    const size = FILES["alpha"]!.length;
    await rejectsNaming(
      downloadDependencies([requestFor("/truncated/alpha", "alpha")], options),
      "DEPENDENCY_TRUNCATED",
      ["dep-alpha 2.0.1 for linux/amd64", `${base}/truncated/alpha`, `of ${size} bytes`],
    );
    assert.equal(server.count("/truncated/alpha"), 2);
    assert.deepEqual(sleeps, [50]);
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("more than five redirects are refused", async () => {
    const { options } = await setup();
    const before = server.total();
    await rejectsNaming(
      downloadDependencies([requestFor("/redirect/7/beta", "beta")], options),
      "DEPENDENCY_DOWNLOAD_FAILED",
      [`${base}/redirect/7/beta`, "more than 5 redirects"],
    );
    assert.equal(server.total() - before, 6, "the first request and five redirects followed");
  });

  test("a slow body arrives whole, with progress events along the way", async () => {
    const { options, cache, events } = await setup();
    const [result] = await downloadDependencies([requestFor("/slow/gamma", "gamma")], options);
    assert.equal(result?.size, FILES["gamma"]!.length);
    const progress = events.filter((e) => e.type === "progress").map((e) => e.bytesDone);
    assert.ok(progress.length >= 4, `progress events: ${progress.length}`);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.deepEqual(
      events.map((e) => e.type).filter((t) => t !== "progress"),
      ["start", "done"],
    );
    assert.equal(events[0]?.size, FILES["gamma"]!.length);
    await assertCacheSound(cache);
  });

  test("a body that stalls longer than the idle timeout fails", async () => {
    const { options, cache } = await setup({ idleTimeoutMs: 300, retries: 0 });
    await rejectsNaming(
      downloadDependencies([requestFor("/stall/alpha", "alpha")], options),
      "DEPENDENCY_DOWNLOAD_FAILED",
      ["dep-alpha 2.0.1 for linux/amd64", "no data for 300 ms after 100 of"],
    );
    assert.deepEqual(await listFiles(cache.dir), []);
  });

  test("no more than `concurrency` downloads run at once", async () => {
    const { options, cache } = await setup({ concurrency: 2 });
    server.maxSlowInFlight = 0;
    const names = ["s1", "s2", "s3", "s4", "s5"];
    const results = await downloadDependencies(
      names.map((name) => requestFor(`/slow/${name}`, name)),
      options,
    );
    assert.equal(results.length, 5);
    assert.equal(server.maxSlowInFlight, 2);
    assert.equal((await assertCacheSound(cache)).length, 5);
  });

  test("after a mix of failures and successes the cache holds only complete, correct entries", async () => {
    const { options, cache } = await setup({ retries: 0, concurrency: 3 });
    const requests = [
      requestFor("/files/alpha", "alpha"),
      requestFor("/truncated/beta", "beta"),
      requestFor("/slow/gamma", "gamma"),
      requestFor("/wrong/delta", "delta"),
    ];
    await assert.rejects(downloadDependencies(requests, options), (e) => isPolypackError(e));
    const names = await assertCacheSound(cache);
    assert.ok(
      names.every(
        (name) => !name.includes(sha256(FILES["beta"]!)) && !name.includes(sha256(FILES["delta"]!)),
      ),
    );
    // What failed is fetched on a run that can succeed; what is cached is not fetched again.
    const before = { alpha: server.count("/files/alpha"), beta: server.count("/files/beta") };
    await downloadDependencies([requests[0]!, requestFor("/files/beta", "beta")], options);
    assert.equal(server.count("/files/alpha"), before.alpha);
    assert.equal(server.count("/files/beta"), before.beta + 1);
  });

  test("a large file streams through with flat memory", { skip: quick }, async () => {
    const hash = createHash("sha256");
    for (const chunk of bigChunks()) hash.update(chunk);
    const checksum = `sha256:${hash.digest("hex")}`;
    const { options, cache } = await setup();
    const used = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    global.gc?.();
    const baseline = used();
    let peak = baseline;
    options.onEvent = () => (peak = Math.max(peak, used()));
    const [result] = await downloadDependencies(
      [requestFor("/big/x", "alpha", "linux/amd64", checksum)],
      options,
    );
    assert.equal(result?.size, BIG_CHUNK * BIG_CHUNKS);
    assert.ok(
      peak - baseline < 48 * 1024 * 1024,
      `memory grew by ${Math.round((peak - baseline) / 1048576)} MiB`,
    );
    assert.equal((await assertCacheSound(cache)).length, 1);
  });
});
