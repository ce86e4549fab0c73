/**
 * The checkout itself: nothing it tracks may sit under a path .gitignore ignores. out/ once held a
 * committed index.json and oci-layout without their blobs, so a fresh clone started with a broken
 * layout at the example's output path.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { test } from "node:test";
import { run } from "../support/tools.js";
import { exampleDir } from "./buildpack-package-support.js";

test("no tracked file is one .gitignore ignores (out/ holds only what scripts write)", async () => {
  const root = dirname(dirname(exampleDir()));
  const tracked = await run("git", ["ls-files", "--cached", "--ignored", "--exclude-standard"], {
    cwd: root,
  });
  assert.deepEqual(tracked.split("\n").filter(Boolean), []);
});
