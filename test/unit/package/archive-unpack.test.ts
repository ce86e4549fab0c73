import assert from "node:assert/strict";
import { lstat, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import { unpackBuildpackArchive } from "../../../src/package/archive-unpack.js";
import { tempDir } from "../../support/tmp.js";

async function archive(entries: LayerEntry[]): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries, { absoluteNames: false })) chunks.push(Buffer.from(chunk));
  const path = join(await tempDir("polypack-archive-"), "bp.tar");
  await writeFile(path, Buffer.concat(chunks));
  return path;
}

test("a buildpack archive unpacks with its modes, symlinks and hard links", async () => {
  const path = await archive([
    { path: "buildpack.toml", type: "file", content: "api" },
    { path: "bin/build", type: "file", content: "#!/bin/sh", mode: 0o755 },
    { path: "bin/detect", type: "hardlink", linkname: "bin/build" },
    { path: "bin/run", type: "symlink", linkname: "build" },
  ]);
  const dest = await tempDir("polypack-unpacked-");
  await unpackBuildpackArchive(path, dest);
  assert.equal(await readFile(join(dest, "buildpack.toml"), "utf8"), "api");
  assert.equal((await lstat(join(dest, "bin/build"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(dest, "bin/detect"))).nlink, 2);
  assert.equal(await readlink(join(dest, "bin/run")), "build");
});

test("an entry below one of the archive's own symlinks is refused, so nothing is written through it", async () => {
  const outside = await tempDir("polypack-outside-");
  const path = await archive([
    { path: "escape", type: "symlink", linkname: outside },
    { path: "escape/owned", type: "file", content: "x" },
  ]).catch(() => undefined);
  // The writer itself refuses a file below a symlink; build the hostile archive by hand then.
  const hostile =
    path ??
    (await (async () => {
      const first = await archive([{ path: "escape", type: "symlink", linkname: outside }]);
      const second = await archive([{ path: "escape/owned", type: "file", content: "x" }]);
      const a = await readFile(first);
      const b = await readFile(second);
      const joined = join(await tempDir("polypack-archive-"), "hostile.tar");
      // Drop the first archive's two closing blocks, so both entries are in one archive.
      await writeFile(joined, Buffer.concat([a.subarray(0, a.length - 1024), b]));
      return joined;
    })());
  await assert.rejects(
    unpackBuildpackArchive(hostile, await tempDir("polypack-unpacked-")),
    (error) => isPolypackError(error, "PATH_ESCAPE") && /below a symbolic link/.test(error.message),
  );
  await assert.rejects(lstat(join(outside, "owned")));
});
