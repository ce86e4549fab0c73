/**
 * Offline packaging downloads over HTTPS with the global --ca-file and --registry-timeout, as the
 * registry client does: a dependency server signed by a private authority is reached only when
 * that authority is named.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createTestCertificates } from "../support/certificates.js";
import { tempDir } from "../support/tmp.js";
import { buildpackToml, script, targetsToml, writeTree } from "../unit/package/helpers.js";
import { polypack } from "./buildpack-package-support.js";

const PAYLOAD = Buffer.from("a dependency served over https\n".repeat(100));

describe("offline packaging over HTTPS with a private certificate authority", () => {
  let work: string;
  let ca: string;
  let stop: () => Promise<void>;
  let bp: string;

  before(async () => {
    work = await tempDir("polypack-https-");
    const certificates = await createTestCertificates(work);
    ca = certificates.ca;
    const server = createServer(
      { key: await readFile(certificates.key), cert: await readFile(certificates.certificate) },
      (_request, response) => response.end(PAYLOAD),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stop = () => new Promise((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;
    const checksum = createHash("sha256").update(PAYLOAD).digest("hex");
    bp = await writeTree(
      {
        "buildpack.toml":
          buildpackToml(targetsToml("linux/amd64")) +
          `\n[[metadata.dependencies]]\nid = "dep"\nversion = "1.0.0"\n` +
          `uri = "https://127.0.0.1:${port}/dep.tgz"\nchecksum = "sha256:${checksum}"\n`,
        "bin/build": script("exit 0"),
        "bin/detect": script("exit 0"),
      },
      join(work, "bp"),
    );
  });
  after(async () => {
    await stop?.();
  });

  test("the download succeeds with --ca-file and is refused without it", async () => {
    const env = { POLYPACK_CACHE_DIR: join(work, "cache") };
    const args = (output: string): string[] => [
      "buildpack",
      "package",
      "example/hello",
      "--path",
      bp,
      "--offline",
      "--output",
      join(work, output),
    ];
    const refused = await polypack(args("refused.cnb"), { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /error\[DEPENDENCY_DOWNLOAD_FAILED\]/);
    const trusted = await polypack(["--ca-file", ca, "--registry-timeout", "5", ...args("trusted.cnb")], {
      env,
    });
    assert.equal(trusted.code, 0, trusted.stderr);
  });
});
