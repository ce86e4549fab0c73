import assert from "node:assert/strict";
import { mkdir, readdir, realpath, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors.js";
import { OciLayout } from "../../../src/layout/oci-layout.js";
import { checkOutput } from "../../../src/package/output-check.js";
import { tempDir } from "../../support/tmp.js";

test("new outputs: missing parents are created and reported; nothing else is left", async () => {
  const root = await realpath(await tempDir());
  const checked = await checkOutput("file", join(root, "a", "b", "x.cnb"));
  assert.deepEqual(checked, {
    path: join(root, "a", "b", "x.cnb"),
    exists: false,
    createdParent: join(root, "a"),
  });
  assert.deepEqual(await readdir(join(root, "a", "b")), [], "the probe is gone");
  assert.deepEqual(await checkOutput("layout", join(root, "a", "oci")), {
    path: join(root, "a", "oci"),
    exists: false,
  });
});

test("what may be replaced or written into: a regular file, an empty folder, a readable layout", async () => {
  const root = await realpath(await tempDir());
  await writeFile(join(root, "old.cnb"), "anything outside the buildpack");
  assert.equal((await checkOutput("file", join(root, "old.cnb"))).exists, true);
  await mkdir(join(root, "empty"));
  assert.equal((await checkOutput("layout", join(root, "empty"))).exists, true);
  await OciLayout.create(join(root, "layout"));
  assert.equal((await checkOutput("layout", join(root, "layout"))).exists, true);
  // A layout another process is still creating (or a killed run left) holds only a layout's entries.
  await mkdir(join(root, "partial", ".polypack"), { recursive: true });
  await writeFile(join(root, "partial", "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(root, "partial", ".index.json.0a1b2c3d-42-0123456789ab.tmp"), "");
  assert.equal((await checkOutput("layout", join(root, "partial"))).exists, true);
  await writeFile(join(root, "partial", "notes.txt"), "mine");
  await assert.rejects(
    checkOutput("layout", join(root, "partial")),
    (e) => isPolypackError(e, "OUTPUT_INVALID") && e.message.includes("it holds notes.txt"),
  );
  await writeFile(join(root, "layout", "index.json"), "not json");
  await assert.rejects(
    checkOutput("layout", join(root, "layout")),
    (e) => isPolypackError(e) && /index/.test(e.message),
  );
});

test("inside the buildpack folder only an earlier package (a tar archive) may be replaced", async () => {
  const dir = await realpath(await tempDir());
  await writeFile(join(dir, "buildpack.toml"), "");
  const tar = Buffer.alloc(1024);
  tar.write("ustar", 257, "latin1");
  await writeFile(join(dir, "old.cnb"), tar);
  await writeFile(join(dir, "notes.cnb"), "my notes, named oddly");
  const source = { dir, inputs: [join(dir, "buildpack.toml")] };
  assert.equal((await checkOutput("file", join(dir, "old.cnb"), source)).exists, true);
  for (const path of [join(dir, "notes.cnb"), join(dir, "buildpack.toml")]) {
    await assert.rejects(checkOutput("file", path, source), (e) => isPolypackError(e, "OUTPUT_INVALID"));
  }
});
