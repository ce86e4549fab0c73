import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors.js";
import { ensureWritableDirectory, isPathWithin, makeDirectory } from "../../../src/util/fs.js";
import { userPathError } from "../../../src/util/path-error.js";
import { tempDir } from "../../support/tmp.js";

/** Fails when `work` has not settled within `ms`, instead of hanging the suite. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("makeDirectory creates missing levels one at a time and returns the first it created", async () => {
  const root = await tempDir();
  assert.equal(await makeDirectory(join(root, "a", "b", "c")), join(root, "a"));
  assert.ok((await stat(join(root, "a", "b", "c"))).isDirectory());
  assert.equal(await makeDirectory(join(root, "a", "b")), undefined, "nothing new");
  await writeFile(join(root, "file"), "");
  await assert.rejects(makeDirectory(join(root, "file", "x")), { code: "ENOTDIR" });
  await assert.rejects(makeDirectory(join(root, "file")), { code: "ENOTDIR", path: join(root, "file") });
});

test("makeDirectory under /proc fails at once with the level that refused, where recursive mkdir spins", async () => {
  for (const path of ["/proc/polypack-test/a/b", "/proc/polypack-test"]) {
    await within(
      10_000,
      assert.rejects(makeDirectory(path), { code: "ENOENT", path: "/proc/polypack-test" }),
    );
  }
});

test("ensureWritableDirectory probes with a folder it removes; a refused probe names the folder", async () => {
  const root = await tempDir();
  assert.equal(await ensureWritableDirectory(join(root, "cache")), join(root, "cache"));
  assert.equal(await ensureWritableDirectory(join(root, "cache")), undefined);
  await within(10_000, assert.rejects(ensureWritableDirectory("/proc"), { code: "ENOENT", path: "/proc" }));
});

test("isPathWithin compares names: the root itself and what lies below it", () => {
  assert.ok(isPathWithin("/a/b", "/a/b"));
  assert.ok(isPathWithin("/a/b", "/a/b/c/d"));
  assert.ok(isPathWithin("/a/b", "/a/b/..c"), "a name starting with .. is inside");
  assert.ok(!isPathWithin("/a/b", "/a/bc"));
  assert.ok(!isPathWithin("/a/b", "/a"));
  assert.ok(!isPathWithin("/a/b", "/a/c/../../x"));
});

test("userPathError names the path, the operation, the failing level and the reason, with a hint", async () => {
  const root = await tempDir();
  await mkdir(join(root, "dir"));
  const errno = await makeDirectory("/proc/polypack-test/x").catch((error: unknown) => error);
  const error = userPathError(errno, {
    path: "/proc/polypack-test/x/out.cnb",
    operation: "write the output",
    code: "OUTPUT_UNWRITABLE",
  });
  assert.ok(isPolypackError(error, "OUTPUT_UNWRITABLE") && error.userError);
  assert.equal(
    error.message,
    "cannot write the output /proc/polypack-test/x/out.cnb: /proc/polypack-test: no new entry can be created there (ENOENT)",
  );
  assert.match(error.hint ?? "", /\/proc/);

  const eisdir = await readFile(join(root, "dir")).catch((e: unknown) => e);
  const read = userPathError(eisdir, {
    path: join(root, "dir"),
    operation: "read",
    code: "X_UNREADABLE",
    advice: "try a file",
  });
  assert.equal(read.message, `cannot read ${join(root, "dir")}: it is a directory (EISDIR)`);
  assert.equal(read.hint, "try a file");

  const own = userPathError(error, { path: "p", operation: "o", code: "OTHER" });
  assert.equal(own, error, "a PolypackError passes through");
  assert.ok(
    isPolypackError(
      userPathError(new TypeError("bug"), { path: "p", operation: "o", code: "OTHER" }),
      "INTERNAL",
    ),
  );
});
