import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runInterruptCleanups } from "../../../src/util/cleanup.js";
import { makeScratchDir, removeScratchDir } from "../../../src/util/scratch-dir.js";

test("a scratch folder is removed by an interrupt's clean-ups, and one already removed is forgotten", async () => {
  const live = await makeScratchDir("polypack-scratch-test-");
  await writeFile(join(live, "file"), "x");
  const done = await makeScratchDir("polypack-scratch-test-");
  await removeScratchDir(done);
  assert.equal(existsSync(done), false);
  runInterruptCleanups();
  assert.equal(existsSync(live), false, "the interrupt removed the live scratch folder");
});
