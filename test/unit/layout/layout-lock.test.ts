import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { LOCK_FILE, LOCK_STALE_MS } from "../../../src/layout/layout-lock.js";
import { LayoutTarget } from "../../../src/layout/layout-target.js";
import { REF_NAME_ANNOTATION } from "../../../src/oci/descriptor.js";
import { HOST_TAG } from "../../../src/util/fs.js";
import { writeRandomImage } from "../../support/images.js";
import { tempDir } from "../../support/tmp.js";

/** The pid of a process that has exited (and been reaped), so no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

/** A layout with one image, and the path of its lock file (not yet taken). */
async function layoutWithImage() {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const image = await writeRandomImage(target, { layerSizes: [10] });
  const lock = join(dir, ".polypack", LOCK_FILE);
  await mkdir(join(dir, ".polypack"), { recursive: true });
  return { dir, target, image, lock };
}

async function refs(target: LayoutTarget): Promise<(string | undefined)[]> {
  return (await target.layout.readIndex()).manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]);
}

test("a lock left by a killed process (its pid is gone) is taken over", async () => {
  const { target, image, lock, dir } = await layoutWithImage();
  await writeFile(lock, JSON.stringify({ host: HOST_TAG, pid: await deadPid(), token: "gone" }));
  const started = Date.now();
  await target.tag(image.descriptor, ["after-crash"]);
  assert.ok(Date.now() - started < 5000, "no waiting for the stale bound");
  assert.deepEqual(await refs(target), ["after-crash"]);
  assert.ok(!(await readdir(join(dir, ".polypack"))).includes(LOCK_FILE), "released after use");
});

test("a lock older than the bound is taken over even when its pid is alive", async () => {
  const { target, image, lock } = await layoutWithImage();
  // pid 1 is alive; another machine's lock could not be judged by its pid anyway.
  await writeFile(lock, JSON.stringify({ host: "0000ffff", pid: 1, token: "old" }));
  const old = new Date(Date.now() - LOCK_STALE_MS - 10_000);
  await utimes(lock, old, old);
  await target.tag(image.descriptor, ["after-timeout"]);
  assert.deepEqual(await refs(target), ["after-timeout"]);
});

test("a live holder's lock is waited for, then taken", async () => {
  const { target, image, lock } = await layoutWithImage();
  await writeFile(lock, JSON.stringify({ host: HOST_TAG, pid: process.pid, token: "mine" }));
  let done = false;
  const tagging = target.tag(image.descriptor, ["waited"]).then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(done, false, "index.json is not changed while another process holds the lock");
  assert.deepEqual(await refs(target), []);
  await rm(lock);
  await tagging;
  assert.deepEqual(await refs(target), ["waited"]);
});
