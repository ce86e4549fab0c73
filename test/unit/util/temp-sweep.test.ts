import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { test } from "node:test";
import { HOST_TAG, STALE_TEMP_AGE_MS, sweepStaleTemps, tempPathBeside } from "../../../src/util/fs.js";
import { tempDir } from "../../support/tmp.js";

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

test("temporary names carry this machine and process", () => {
  const name = basename(tempPathBeside("/x/app.cnb"));
  assert.match(name, new RegExp(`^\\.app\\.cnb\\.${HOST_TAG}-${process.pid}-[0-9a-f]{12}\\.tmp$`));
});

test("only temporaries no live writer can own are swept", async () => {
  const dir = await tempDir();
  const dead = await deadPid();
  const old = new Date(Date.now() - STALE_TEMP_AGE_MS - 60_000);
  const files: [string, "swept" | "kept", Date?][] = [
    [`.app.cnb.${HOST_TAG}-${dead}-0123456789ab.tmp`, "swept"],
    [`.app.cnb.${HOST_TAG}-${dead}-0123456789ab.tmp.d`, "swept"],
    [`.index.json.${HOST_TAG}-${process.pid}-0123456789ab.tmp`, "kept"],
    [`.index.json.0000ffff-${dead}-0123456789ab.tmp`, "kept"],
    [`.index.json.0000ffff-${dead}-ba9876543210.tmp`, "swept", old],
    [".app.cnb.0123456789ab.tmp", "kept"],
    [".app.cnb.ba9876543210.tmp", "swept", old],
    ["app.cnb", "kept", old],
    [".hidden-user-file.tmp", "kept", old],
  ];
  for (const [name, , mtime] of files) {
    const path = join(dir, name);
    if (name.endsWith(".d")) await mkdir(join(path, "blobs"), { recursive: true });
    else await writeFile(path, "x");
    if (mtime) await utimes(path, mtime, mtime);
  }
  const removed = await sweepStaleTemps(dir);
  assert.deepEqual(
    removed.sort(),
    files
      .filter(([, fate]) => fate === "swept")
      .map(([name]) => name)
      .sort(),
  );
  assert.deepEqual(
    (await readdir(dir)).sort(),
    files
      .filter(([, fate]) => fate === "kept")
      .map(([name]) => name)
      .sort(),
  );
});

test("a sweep for one file's temporaries leaves other files' alone", async () => {
  const dir = await tempDir();
  const dead = await deadPid();
  await writeFile(join(dir, `.a.cnb.${HOST_TAG}-${dead}-0123456789ab.tmp`), "");
  await writeFile(join(dir, `.b.cnb.${HOST_TAG}-${dead}-0123456789ab.tmp`), "");
  assert.deepEqual(await sweepStaleTemps(dir, "a.cnb"), [`.a.cnb.${HOST_TAG}-${dead}-0123456789ab.tmp`]);
});
