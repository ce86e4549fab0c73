import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

const created: string[] = [];

// Registered once, when a test file first imports this module, so it belongs to the file's root and
// runs after every test of the file (a hook registered inside a test or `before` would run too early).
after(async () => {
  await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh temporary directory removed when the current test file finishes. */
export async function tempDir(prefix = "polypack-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
