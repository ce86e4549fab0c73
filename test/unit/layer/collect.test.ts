import assert from "node:assert/strict";
import { link, mkdir, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { test } from "node:test";
import { collectDirectory } from "../../../src/layer/collect.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import { writeLayer } from "../../../src/layer/write-layer.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { tempDir } from "../../support/tmp.js";
import { run } from "../../support/tools.js";

/** A small buildpack tree; `umask` and `time` vary what a checkout leaves on disk. */
async function buildpackTree(root: string, umask: number, time: Date): Promise<void> {
  const previous = process.umask(umask);
  try {
    await mkdir(join(root, "bin"), { recursive: true, mode: 0o777 });
    await mkdir(join(root, "lib", "nested"), { recursive: true, mode: 0o777 });
    await writeFile(join(root, "buildpack.toml"), '[buildpack]\nid = "x"\n', { mode: 0o666 });
    await writeFile(join(root, "bin", "run"), "#!/bin/sh\necho run\n", { mode: 0o777 });
    await symlink("run", join(root, "bin", "build"));
    await symlink("run", join(root, "bin", "detect"));
    await writeFile(join(root, "lib", "nested", "data.txt"), "data\n", { mode: 0o666 });
    await link(join(root, "lib", "nested", "data.txt"), join(root, "lib", "same-data.txt"));
    await symlink("/etc/os-release", join(root, "lib", "absolute-link"));
  } finally {
    process.umask(previous);
  }
  for (const path of ["buildpack.toml", "bin/run", "lib/nested/data.txt"]) {
    await utimes(join(root, path), time, time);
  }
}

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

test("entries come out sorted, with symlinks kept and hard links detected under the prefix", async () => {
  const root = await tempDir();
  await buildpackTree(root, 0o022, new Date());
  const entries = await collectDirectory(root, { prefix: "/cnb/buildpacks/x/1.0" });
  assert.deepEqual(
    entries.map((entry) => [entry.path, entry.type, "linkname" in entry ? entry.linkname : undefined]),
    [
      ["cnb/buildpacks/x/1.0", "directory", undefined],
      ["cnb/buildpacks/x/1.0/bin", "directory", undefined],
      ["cnb/buildpacks/x/1.0/bin/build", "symlink", "run"],
      ["cnb/buildpacks/x/1.0/bin/detect", "symlink", "run"],
      ["cnb/buildpacks/x/1.0/bin/run", "file", undefined],
      ["cnb/buildpacks/x/1.0/buildpack.toml", "file", undefined],
      ["cnb/buildpacks/x/1.0/lib", "directory", undefined],
      ["cnb/buildpacks/x/1.0/lib/absolute-link", "symlink", "/etc/os-release"],
      ["cnb/buildpacks/x/1.0/lib/nested", "directory", undefined],
      ["cnb/buildpacks/x/1.0/lib/nested/data.txt", "file", undefined],
      ["cnb/buildpacks/x/1.0/lib/same-data.txt", "hardlink", "cnb/buildpacks/x/1.0/lib/nested/data.txt"],
    ],
  );
  const withoutRoot = await collectDirectory(root, { prefix: "p", includeRoot: false });
  assert.equal(withoutRoot[0]!.path, "p/bin");
});

test("the layer is identical across checkout folders, umasks and mtimes", async () => {
  const first = await tempDir();
  const second = await tempDir();
  await buildpackTree(first, 0o022, new Date("2020-05-05T00:00:00Z"));
  await buildpackTree(second, 0o077, new Date("2024-12-24T12:00:00Z"));
  const layer = async (root: string) =>
    writeLayer(await collectDirectory(root, { prefix: "/cnb/buildpacks/x/1.0" }), sink(), {
      absoluteNames: true,
    });
  const [a, b] = [await layer(first), await layer(second)];
  assert.equal(a.diffID, b.diffID);
  assert.equal(a.descriptor.digest, b.descriptor.digest);
});

test("the tar lists modes and links as pack writes them (checked with GNU tar)", async () => {
  const root = await tempDir();
  await buildpackTree(root, 0o077, new Date());
  const out = join(await tempDir(), "layer.tar");
  const entries = await collectDirectory(root, { prefix: "/cnb/buildpacks/x/1.0" });
  await writeFile(out, Readable.from(tarStream(entries, { absoluteNames: true })));
  const listing = await run("tar", ["--numeric-owner", "-tvf", out]);
  const lines = listing
    .trim()
    .split("\n")
    .map((line) => line.replace(/\s+/g, " "));
  assert.match(lines[0]!, /^drwxr-xr-x 0\/0 0 1980-01-01 00:00 \/cnb\/buildpacks\/x\/1.0$/);
  assert.ok(lines.some((line) => /^-rwxr-xr-x 0\/0 \d+ .* \/cnb\/buildpacks\/x\/1.0\/bin\/run$/.test(line)));
  assert.ok(
    lines.some((line) => /^-rw-r--r-- 0\/0 \d+ .* \/cnb\/buildpacks\/x\/1.0\/buildpack.toml$/.test(line)),
  );
  assert.ok(lines.some((line) => line.endsWith("bin/build -> run")));
  // GNU tar prints hard link targets without their leading slash.
  assert.ok(
    lines.some((line) =>
      /lib\/same-data.txt link to \/?cnb\/buildpacks\/x\/1.0\/lib\/nested\/data.txt$/.test(line),
    ),
  );
});

test("a filter leaves out files and whole folders", async () => {
  const root = await tempDir();
  await buildpackTree(root, 0o022, new Date());
  const entries = await collectDirectory(root, { prefix: "", filter: (path) => path !== "lib" });
  assert.deepEqual(
    entries.map((entry) => entry.path),
    ["bin", "bin/build", "bin/detect", "bin/run", "buildpack.toml"],
  );
});

test("the collected file content is read lazily from disk and round-trips", async () => {
  const root = await tempDir();
  await buildpackTree(root, 0o022, new Date());
  const entries = await collectDirectory(root, { prefix: "bp" });
  // Changed after collecting (same size): the layer has the new bytes, so nothing was read early.
  await writeFile(join(root, "lib", "nested", "data.txt"), "DATA\n");
  const contents = new Map<string, string>();
  for await (const entry of readLayer(Readable.from(tarStream(entries)))) {
    if (entry.type !== "file") continue;
    const chunks: Buffer[] = [];
    for await (const chunk of entry.content) chunks.push(chunk);
    contents.set(entry.path, Buffer.concat(chunks).toString());
  }
  assert.equal(contents.get("bp/bin/run"), "#!/bin/sh\necho run\n");
  assert.equal(contents.get("bp/lib/nested/data.txt"), "DATA\n");
});

test("refuses special files, a missing directory and a prefix that escapes", async () => {
  const root = await tempDir();
  await run("mkfifo", [join(root, "pipe")]);
  await assert.rejects(collectDirectory(root, { prefix: "x" }), (error) =>
    isPolypackError(error, "LAYER_UNSUPPORTED_FILE"),
  );
  await assert.rejects(collectDirectory(join(root, "missing"), { prefix: "x" }), (error) =>
    isPolypackError(error, "PATH_NOT_FOUND"),
  );
  await assert.rejects(collectDirectory(root, { prefix: "../x" }), (error) =>
    isPolypackError(error, "LAYER_PATH_INVALID"),
  );
});
