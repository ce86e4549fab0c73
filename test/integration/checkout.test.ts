/**
 * The checkout itself: nothing it tracks may sit under a path .gitignore ignores. out/ once held a
 * committed index.json and oci-layout without their blobs, so a fresh clone started with a broken
 * layout at the example's output path.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/** Walks up from this file (in dist/) to the folder holding package.json and .gitignore. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, ".gitignore")) || !existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("no checkout found above the test file");
    dir = parent;
  }
  return dir;
}

function git(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("git", args, { cwd }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(" ")}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

test("no tracked file is one .gitignore ignores (out/ holds only what scripts write)", async () => {
  const root = repositoryRoot();
  const tracked = await git(["ls-files", "--cached", "--ignored", "--exclude-standard"], root);
  assert.deepEqual(tracked.split("\n").filter(Boolean), []);
});
