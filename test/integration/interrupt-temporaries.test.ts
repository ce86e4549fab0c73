/**
 * SIGINT promises that the run's temporary files were removed: that holds for the folders polypack
 * makes in the system's temporary directory too (the layer spool of a publish), not only for those
 * beside its outputs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "bin.js");
let registry: RegistryHandle;

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
});

test("SIGINT while a publish spools its layers: exit 130 and no spool left in the temporary directory", async () => {
  const work = await tempDir();
  const buildpack = join(work, "bp");
  await mkdir(join(buildpack, "bin"), { recursive: true });
  await writeFile(
    join(buildpack, "buildpack.toml"),
    'api = "0.10"\n[buildpack]\nid = "test/spool"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\narch = "amd64"\n',
  );
  for (const name of ["detect", "build"]) {
    await writeFile(join(buildpack, "bin", name), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  }
  // Enough incompressible bytes that the layer is still being written when the signal comes.
  await writeFile(join(buildpack, "payload"), randomBytes(64 * 1024 * 1024));
  const tmp = join(work, "tmp");
  await mkdir(tmp);
  const child = spawn(
    process.execPath,
    [CLI, "buildpack", "package", `${registry.host}/spool/bp:1`, "--path", buildpack, "--publish"],
    { env: { ...process.env, CI: "true", TMPDIR: tmp }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  let exited = false;
  void ended.then(() => (exited = true));
  for (
    let waited = 0;
    !(await readdir(tmp)).some((name) => name.startsWith("polypack-spool-"));
    waited += 5
  ) {
    assert.ok(!exited && waited < 20_000, `the publish never made its spool: ${stderr}`);
    await delay(5);
  }
  child.kill("SIGINT");
  assert.equal(await ended, 130, stderr);
  assert.deepEqual(await readdir(tmp), []);
});
