/**
 * http(s) buildpack uris (`[buildpack] uri` and `[[dependencies]] uri`) go through the download
 * cache: a second run asks the server whether the archive changed (ETag / Last-Modified) instead of
 * downloading it, a changed archive is downloaded, and a damaged cache entry is downloaded again
 * rather than packaged.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { buildpackToml, script, targetsToml, writeTree } from "../unit/package/helpers.js";
import { polypackOk, readJSON } from "./buildpack-package-support.js";

/** A server of files that counts full answers and honours If-None-Match and If-Modified-Since. */
class FileServer {
  readonly files = new Map<string, Buffer>();
  /** Whether answers carry an ETag and Last-Modified. */
  validators = true;
  bodies = 0;
  notModified = 0;
  private server: Server | undefined;
  base = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const body = this.files.get(request.url ?? "");
      if (body === undefined) return void response.writeHead(404).end();
      const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
      if (this.validators && request.headers["if-none-match"] === etag) {
        this.notModified++;
        return void response.writeHead(304, { etag }).end();
      }
      this.bodies++;
      const headers = this.validators ? { etag, "last-modified": new Date(0).toUTCString() } : {};
      response.writeHead(200, { ...headers, "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): void {
    this.server?.close();
  }
}

describe("http(s) buildpack uris through the download cache", () => {
  const server = new FileServer();
  let work: string;

  before(async () => {
    await server.start();
    work = await tempDir("polypack-http-cache-");
    for (const [dir, echo] of [
      ["a", "a"],
      ["a2", "a, changed"],
    ] as const) {
      await writeTree(
        {
          "buildpack.toml": buildpackToml(targetsToml("linux/amd64"), "example/a", "1.0.0"),
          "bin/build": script(`echo ${echo}`),
          "bin/detect": script("echo a"),
        },
        join(work, dir),
      );
      await run("tar", ["-czf", join(work, `${dir}.tgz`), "-C", join(work, dir), "."]);
    }
    await writeTree(
      {
        "buildpack.toml": buildpackToml(
          '[[order]]\n  [[order.group]]\n    id = "example/a"\n    version = "1.0.0"\n',
          "example/composite",
          "2.0.0",
        ),
      },
      join(work, "composite"),
    );
    server.files.set("/a.tgz", await readFile(join(work, "a.tgz")));
  });
  after(() => server.stop());

  /** Packages `config` into a fresh layout with the cache `cache`; the image's digest. */
  async function packageDigest(config: string, cache: string): Promise<string> {
    const layout = join(await tempDir("polypack-http-cache-out-"), "out");
    await polypackOk([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--cache-dir",
      cache,
      "--output",
      layout,
    ]);
    return (await readJSON<ImageIndex>(join(layout, "index.json"))).manifests[0]!.digest;
  }

  /** Every content file in the cache (its `sha256/` folder). */
  async function cachedFiles(cache: string): Promise<string[]> {
    const names = await readdir(join(cache, "sha256")).catch(() => []);
    return names.map((name) => join(cache, "sha256", name));
  }

  test("a dependency uri is revalidated, not downloaded again; a damaged entry is downloaded again; a change is seen", async () => {
    const cache = await tempDir("polypack-http-cache-dir-");
    const config = join(work, "dependency.package.toml");
    await writeFile(
      config,
      `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "${server.base}/a.tgz"\n`,
    );
    server.bodies = server.notModified = 0;
    const first = await packageDigest(config, cache);
    assert.equal(server.bodies, 1);
    const second = await packageDigest(config, cache);
    assert.equal(second, first);
    assert.equal(server.bodies, 1, "the second run downloaded the archive again");
    assert.ok(server.notModified >= 1);

    // Same size, other bytes: the entry no longer matches its recorded sha256.
    const [entry] = await cachedFiles(cache);
    assert.ok(entry !== undefined);
    const { size } = await stat(entry);
    await writeFile(entry, Buffer.alloc(size, 0x41));
    const third = await packageDigest(config, cache);
    assert.equal(third, first, "a damaged cache entry changed the image");
    assert.equal(server.bodies, 2, "the damaged entry was not downloaded again");

    // The server's archive changes: its ETag does, and the new content is packaged.
    server.files.set("/a.tgz", await readFile(join(work, "a2.tgz")));
    try {
      const changed = await packageDigest(config, cache);
      assert.notEqual(changed, first);
      assert.equal(server.bodies, 3);
    } finally {
      server.files.set("/a.tgz", await readFile(join(work, "a.tgz")));
    }
  });

  test("[buildpack] uri over http is a buildpack archive, cached the same way; without validators it is downloaded each time", async () => {
    const cache = await tempDir("polypack-http-cache-dir-");
    const config = join(work, "top.package.toml");
    await writeFile(config, `[buildpack]\nuri = "${server.base}/a.tgz"\n`);
    server.bodies = server.notModified = 0;
    const first = await packageDigest(config, cache);
    const second = await packageDigest(config, cache);
    assert.equal(second, first);
    assert.equal(server.bodies, 1);
    assert.equal(server.notModified, 1);

    server.validators = false;
    try {
      assert.equal(await packageDigest(config, cache), first);
      assert.equal(server.bodies, 2);
    } finally {
      server.validators = true;
    }
  });
});
