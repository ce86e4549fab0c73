/**
 * `buildpack package` against a server that never stops sending: the download stops at the cap
 * (POLYPACK_MAX_DOWNLOAD_SIZE, here 1 MiB), the run exits 1 with SIZE_EXCEEDED naming the redacted
 * URL and the cap, and nothing is left in the cache folder or beside the output.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { polypack } from "../support/cli.js";
import { tempDir } from "../support/tmp.js";
import { DownloadServer, ENDLESS_PATH, HUGE_PATH } from "../unit/dependencies/endless-server.js";
import { checksumOf, listFiles } from "../unit/dependencies/fixtures.js";
import { buildpackToml, script, targetsToml, writeTree } from "../unit/package/helpers.js";

describe("buildpack package with downloads over the cap", () => {
  let server: DownloadServer;
  let auth: string;
  before(async () => {
    server = await new DownloadServer().start();
    auth = server.base.replace("http://", "http://user:secret@");
  });
  after(() => server.stop());

  /** Runs `args` with --json and the 1 MiB cap; checks exit 1, SIZE_EXCEEDED, the redacted URL and the cap. */
  async function failsOverCap(args: string[], path: string, work: string): Promise<void> {
    // Scratch files go to the work folder too, so that the check afterwards covers them.
    await mkdir(join(work, "tmp"));
    const env = { POLYPACK_MAX_DOWNLOAD_SIZE: "1MiB", TMPDIR: join(work, "tmp") };
    const outcome = await polypack(["--json", ...args], { env, timeoutMs: 120_000 });
    assert.equal(outcome.code, 1, outcome.stderr);
    const { error } = JSON.parse(outcome.stdout) as {
      error: { code: string; message: string; hint: string };
    };
    assert.equal(error.code, "SIZE_EXCEEDED", error.message);
    assert.ok(error.message.includes(`${server.base}${path}`), error.message);
    assert.ok(!error.message.includes("secret"), error.message);
    assert.match(error.message, /1048576-byte \(1 MiB\) cap/);
    assert.match(error.hint, /POLYPACK_MAX_DOWNLOAD_SIZE/);
  }

  test("a package.toml uri: endless or announced too large, exit 1, nothing in the cache or beside the output", async () => {
    for (const path of [ENDLESS_PATH, HUGE_PATH]) {
      const work = await tempDir("polypack-cap-");
      const config = join(work, "package.toml");
      await writeTree({ "package.toml": `[buildpack]\nuri = "${auth}${path}"\n` }, work);
      const cache = join(work, "cache");
      const out = join(work, "out");
      await failsOverCap(
        [
          "buildpack",
          "package",
          "c",
          "--config",
          config,
          "--cache-dir",
          cache,
          "--format",
          "file",
          "--output",
          join(out, "c.cnb"),
        ],
        path,
        work,
      );
      // Nothing in the cache folder, the output folder or anywhere else in the work folder.
      assert.deepEqual(await listFiles(work), ["package.toml"], path);
    }
  });

  test("an --offline dependency with a checksum: the endless body stops at the cap", async () => {
    const work = await tempDir("polypack-cap-");
    const uri = `${auth}${ENDLESS_PATH}`;
    await writeTree(
      {
        "buildpack.toml": buildpackToml(
          `${targetsToml("linux/amd64")}\n[[metadata.dependencies]]\n  id = "endless"\n  version = "1.0.0"\n  uri = "${uri}"\n  checksum = "${checksumOf("x")}"\n  os = "linux"\n  arch = "amd64"\n`,
        ),
        "bin/build": script("true"),
        "bin/detect": script("true"),
      },
      join(work, "bp"),
    );
    const cache = join(work, "cache");
    const out = join(work, "out");
    await failsOverCap(
      [
        "buildpack",
        "package",
        "hello",
        "--path",
        join(work, "bp"),
        "--offline",
        "--cache-dir",
        cache,
        "--format",
        "file",
        "--output",
        join(out, "hello.cnb"),
      ],
      ENDLESS_PATH,
      work,
    );
    assert.deepEqual(await listFiles(work), ["bp/bin/build", "bp/bin/detect", "bp/buildpack.toml"]);
  });
});
