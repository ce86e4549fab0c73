/**
 * `polypack buildpack package` (and `extension package`) given bad input: ids and versions that are
 * not folder names, outputs that must not be replaced or cannot be written, cache directories that
 * cannot be created, and bad flag values. Each fails with exit 1 (2 for usage errors), a stable
 * code, the path or key at fault named, no stack trace, and nothing written.
 */
import assert from "node:assert/strict";
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { polypack, type Outcome } from "../support/cli.js";
import { fixture } from "../support/fixtures.js";
import { run } from "../support/tools.js";
import { tempDir } from "../support/tmp.js";
import { buildpackToml, script, targetsToml, writeTree, type TreeFile } from "../unit/package/helpers.js";

/** A small buildpack for linux/amd64 with shell-script binaries, as an object literal. */
function buildpackFiles(toml = buildpackToml(targetsToml("linux/amd64"))): Record<string, TreeFile> {
  return {
    "buildpack.toml": toml,
    "bin/build": script("echo build"),
    "bin/detect": script("echo detect"),
  };
}

/** Asserts a user error: the exit status, `error[CODE]` on stderr, each text mentioned, no stack trace. */
function failsWith(outcome: Outcome, code: string, mentions: readonly string[] = [], exit = 1): void {
  assert.equal(outcome.code, exit, `exit status; stderr: ${outcome.stderr}`);
  assert.match(outcome.stderr, new RegExp(`^error\\[${code}\\]: `, "m"), outcome.stderr);
  for (const text of mentions) assert.ok(outcome.stderr.includes(text), `${text} in: ${outcome.stderr}`);
  assert.doesNotMatch(outcome.stderr, /^\s+at /m, "no stack trace for a user error");
  assert.doesNotMatch(outcome.stderr, /INTERNAL|bug in polypack/);
}

describe("ids and versions that would leave /cnb/buildpacks/<id>/<version>/", () => {
  for (const [kind, file] of [
    ["buildpack", "buildpack.toml"],
    ["extension", "extension.toml"],
  ] as const) {
    test(`${kind}: id '..' with version 'lifecycle' (which would overwrite /cnb/lifecycle/bin/build)`, async () => {
      const toml = `api = "0.10"\n\n[${kind}]\n  id = ".."\n  version = "lifecycle"\n\n${targetsToml("linux/amd64")}`;
      const { "buildpack.toml": _descriptor, ...bin } = buildpackFiles();
      const dir = await writeTree({ ...bin, [file]: toml });
      const out = await tempDir();
      const outcome = await polypack([kind, "package", "x", "--path", dir, "--output", join(out, "x.cnb")]);
      failsWith(outcome, "BUILDPACK_ID_INVALID", [`${join(dir, file)}:4: [${kind}].id: invalid id ".."`]);
      assert.deepEqual(await readdir(out), [], "nothing written");
    });
  }

  test("a version holding '/' and '..' segments", async () => {
    const dir = await writeTree(
      buildpackFiles(buildpackToml(targetsToml("linux/amd64"), "a/b", "1.0/../../../lifecycle")),
    );
    const out = await tempDir();
    const outcome = await polypack([
      "buildpack",
      "package",
      "x",
      "--path",
      dir,
      "--output",
      join(out, "x.cnb"),
    ]);
    failsWith(outcome, "BUILDPACK_VERSION_INVALID", [
      `${join(dir, "buildpack.toml")}:5: [buildpack].version`,
    ]);
    assert.deepEqual(await readdir(out), [], "nothing written");
  });
});

/** `buildpack package` of a fresh small buildpack to `output`, with more flags and environment. */
async function packageTo(
  output: readonly string[],
  options: { extra?: readonly string[]; env?: NodeJS.ProcessEnv; dir?: string; name?: string } = {},
): Promise<Outcome> {
  const dir = options.dir ?? (await writeTree(buildpackFiles()));
  const args = [
    "buildpack",
    "package",
    options.name ?? "x",
    "--path",
    dir,
    ...output,
    ...(options.extra ?? []),
  ];
  return polypack(args, {
    // Generous for a loaded machine; a run that loops (as recursive mkdir under /proc did) is killed.
    timeoutMs: 60_000,
    ...(options.env ? { env: options.env } : {}),
  });
}

describe("outputs that must not be replaced: OUTPUT_INVALID before any work", () => {
  test("a .cnb output that is an existing folder", async () => {
    const out = await tempDir();
    const folder = join(out, "x.cnb");
    await mkdir(folder);
    failsWith(await packageTo(["--output", folder]), "OUTPUT_INVALID", [`${folder} is a folder`]);
    assert.deepEqual(await readdir(folder), [], "the folder is left as it was");
    assert.deepEqual(await readdir(out), ["x.cnb"], "nothing else written");
  });

  test("a layout output that is an existing file", async () => {
    const out = await tempDir();
    const file = join(out, "layout");
    await writeFile(file, "keep me");
    failsWith(await packageTo(["--format", "layout", "--output", file]), "OUTPUT_INVALID", [
      `${file} is a file`,
    ]);
    assert.equal(await readFile(file, "utf8"), "keep me");
    assert.deepEqual(await readdir(out), ["layout"]);
  });

  test("a layout output that is a folder holding other things", async () => {
    const out = await tempDir();
    await writeFile(join(out, "notes.txt"), "mine");
    failsWith(await packageTo(["--format", "layout", "--output", out]), "OUTPUT_INVALID", [
      `${out} is a folder that is not an OCI image layout`,
    ]);
    assert.deepEqual(await readdir(out), ["notes.txt"]);
  });

  test("a symbolic link, a FIFO and a character device are never replaced", async () => {
    const out = await tempDir();
    const target = join(out, "target.cnb");
    await writeFile(target, "the link's target");
    await symlink(target, join(out, "link.cnb"));
    await run("mkfifo", [join(out, "fifo.cnb")]);
    // As root a copy of /dev/full is made here, so that a failure cannot replace the real one.
    const device = process.getuid?.() === 0 ? join(out, "full.cnb") : "/dev/full";
    if (device !== "/dev/full") await run("mknod", [device, "c", "1", "7"]);
    for (const [path, what] of [
      [join(out, "link.cnb"), "is a symbolic link"],
      [join(out, "fifo.cnb"), "is a FIFO"],
      [device, "is a character device"],
    ] as const) {
      failsWith(await packageTo(["--format", "file", "--output", path]), "OUTPUT_INVALID", [
        `${path} ${what}`,
      ]);
    }
    assert.ok((await lstat(join(out, "link.cnb"))).isSymbolicLink());
    assert.equal(await readFile(target, "utf8"), "the link's target");
    assert.ok((await lstat(join(out, "fifo.cnb"))).isFIFO());
    assert.ok((await lstat(device)).isCharacterDevice());
    assert.deepEqual(
      (await readdir(out)).sort(),
      ["fifo.cnb", "link.cnb", "target.cnb", ...(device === "/dev/full" ? [] : ["full.cnb"])].sort(),
    );
  });

  test("the buildpack's own buildpack.toml or another of its files, and the buildpack folder itself", async () => {
    const dir = await writeTree({ ...buildpackFiles(), "README.md": "read me" });
    const toml = await readFile(join(dir, "buildpack.toml"), "utf8");
    failsWith(
      await packageTo(["--format", "file", "--output", join(dir, "buildpack.toml")], { dir }),
      "OUTPUT_INVALID",
      [`${join(dir, "buildpack.toml")} is buildpack.toml`],
    );
    failsWith(
      await packageTo(["--format", "file", "--output", join(dir, "README.md")], { dir }),
      "OUTPUT_INVALID",
      [`${join(dir, "README.md")} is one of the buildpack's own files`],
    );
    failsWith(await packageTo(["--format", "layout", "--output", dir], { dir }), "OUTPUT_INVALID", [
      `${dir} holds the buildpack folder`,
    ]);
    assert.equal(await readFile(join(dir, "buildpack.toml"), "utf8"), toml);
    assert.equal(await readFile(join(dir, "README.md"), "utf8"), "read me");
    assert.deepEqual((await readdir(dir)).sort(), ["README.md", "bin", "buildpack.toml"]);
  });
});

test("an output inside a folder package.toml includes, or a .cnb it includes, is refused", async () => {
  const root = await tempDir();
  await writeTree(buildpackFiles(), join(root, "dep"));
  await writeTree(
    {
      "buildpack.toml":
        'api = "0.10"\n[buildpack]\nid = "example/composite"\nversion = "1.0.0"\n' +
        '[[order]]\n[[order.group]]\nid = "example/hello"\nversion = "1.0.0"\n',
      "package.toml": `[buildpack]\nuri = "."\n[[dependencies]]\nuri = "../dep"\n${targetsToml("linux/amd64")}`,
    },
    join(root, "top"),
  );
  const config = ["buildpack", "package", "x", "--config", join(root, "top", "package.toml")];
  const fine = await polypack([...config, "--output", join(root, "top", "ok.cnb")]);
  assert.equal(fine.code, 0, fine.stderr);
  const output = join(root, "dep", "out.cnb");
  failsWith(await polypack([...config, "--output", output]), "OUTPUT_INVALID", [
    `${output} overlaps ${join(root, "dep")}, a folder package.toml includes`,
  ]);
  assert.deepEqual((await readdir(join(root, "dep"))).sort(), ["bin", "buildpack.toml"]);

  // A .cnb it includes is read, so it cannot be the output either.
  const cnb = join(root, "dep.cnb");
  const built = await polypack(["buildpack", "package", "x", "--path", join(root, "dep"), "--output", cnb]);
  assert.equal(built.code, 0, built.stderr);
  const before = await readFile(cnb);
  await writeFile(
    join(root, "top", "package.toml"),
    `[buildpack]\nuri = "."\n[[dependencies]]\nuri = "../dep.cnb"\n${targetsToml("linux/amd64")}`,
  );
  failsWith(await polypack([...config, "--output", cnb]), "OUTPUT_INVALID", [
    `${cnb} is dep.cnb, which packaging reads`,
  ]);
  assert.ok((await readFile(cnb)).equals(before));
});

describe("outputs inside the buildpack folder are left out of its layer", () => {
  for (const [kind, name] of [
    ["file", "out.cnb"],
    ["layout", "oci"],
  ] as const) {
    test(`${kind}: packaging into the folder twice gives the image packaged outside it`, async () => {
      const dir = await writeTree(buildpackFiles());
      const digestOf = async (output: string): Promise<string> => {
        const outcome = await packageTo(["--format", kind, "--output", output], { dir });
        assert.equal(outcome.code, 0, outcome.stderr);
        return /\(sha256:([0-9a-f]{64})\)/.exec(outcome.stdout)?.[1] ?? "none";
      };
      const outside = await digestOf(join(await tempDir(), name));
      assert.equal(await digestOf(join(dir, name)), outside, "first run inside");
      assert.equal(await digestOf(join(dir, name)), outside, "second run, over the first");
      // A .cnb's SBOMs are written beside it, and left out of the next run's layer as well.
      const outputs = kind === "file" ? [name, `${name}.sbom`] : [name];
      assert.deepEqual((await readdir(dir)).sort(), ["bin", "buildpack.toml", ...outputs]);
    });
  }
});

describe("outputs and caches the file system refuses: a named path, exit 1, at once", () => {
  test("an output under /proc fails fast instead of spinning in mkdir", async () => {
    for (const path of [`/proc/polypack-test-${process.pid}/sub/x.cnb`, "/proc/x.cnb"]) {
      const started = Date.now();
      const outcome = await packageTo(["--output", path]);
      failsWith(outcome, "OUTPUT_UNWRITABLE", [`cannot write the output ${path}`]);
      assert.ok(Date.now() - started < 30_000, "failed within seconds");
    }
    failsWith(
      await packageTo(["--format", "layout", "--output", `/proc/polypack-test-${process.pid}`]),
      "OUTPUT_UNWRITABLE",
      ["/proc/"],
    );
  });

  test("a cache folder under /proc, from POLYPACK_CACHE_DIR or --cache-dir, fails fast", async () => {
    const out = await tempDir();
    failsWith(
      await packageTo(["--output", join(out, "x.cnb")], {
        env: { POLYPACK_CACHE_DIR: `/proc/polypack-test-${process.pid}` },
      }),
      "CACHE_DIR_UNWRITABLE",
      [`cannot use the layer cache /proc/polypack-test-${process.pid}/layers`],
    );
    failsWith(
      await packageTo(["--output", join(out, "x.cnb")], {
        extra: ["--offline", "--cache-dir", "/proc/polypack-deps"],
      }),
      "CACHE_DIR_UNWRITABLE",
      ["cannot use the dependency cache /proc/polypack-deps"],
    );
    assert.deepEqual(await readdir(out), []);
  });

  test("an output below a regular file (ENOTDIR), and one on a read-only mount (EROFS) where one can be made", async (t) => {
    const out = await tempDir();
    await writeFile(join(out, "file"), "");
    failsWith(await packageTo(["--output", join(out, "file", "x.cnb")]), "OUTPUT_UNWRITABLE", [
      join(out, "file", "x.cnb"),
      "(ENOTDIR)",
    ]);
    failsWith(
      await packageTo(["--format", "layout", "--output", join(out, "file", "sub", "oci")]),
      "OUTPUT_UNWRITABLE",
      ["(ENOTDIR)"],
    );
    assert.deepEqual(await readdir(out), ["file"]);

    const readOnly = join(out, "ro");
    await mkdir(readOnly);
    const mounted = await run("mount", ["--bind", "-o", "ro", readOnly, readOnly]).then(
      () => true,
      (error: unknown) => {
        t.diagnostic(`EROFS not checked: no read-only bind mount here (${String(error)})`);
        return false;
      },
    );
    if (!mounted) return;
    try {
      for (const output of [
        ["--output", join(readOnly, "x.cnb")],
        ["--format", "layout", "--output", join(readOnly, "new", "oci")],
      ]) {
        failsWith(await packageTo(output), "OUTPUT_UNWRITABLE", ["the file system is read-only (EROFS)"]);
      }
      failsWith(
        await packageTo(["--output", join(out, "x.cnb")], {
          env: { POLYPACK_CACHE_DIR: join(readOnly, "cache") },
        }),
        "CACHE_DIR_UNWRITABLE",
        ["(EROFS)"],
      );
    } finally {
      await run("umount", [readOnly]);
    }
  });

  test("a registry push whose TMPDIR (where layers are spooled) is under /proc fails before any work", async () => {
    const outcome = await packageTo(["--publish", "--target", "linux/amd64"], {
      env: { TMPDIR: `/proc/polypack-test-${process.pid}` },
      name: "127.0.0.1:9/polypack/never:1",
    });
    failsWith(outcome, "SCRATCH_UNWRITABLE", [`/proc/polypack-test-${process.pid}`]);
  });

  test("folders created for an output are removed again when the run fails later", async () => {
    const out = await tempDir();
    const dir = await writeTree(buildpackFiles(buildpackToml(targetsToml("linux/amd64", "linux/arm64"))));
    const outcome = await packageTo(["--output", join(out, "new", "deeper", "x.cnb")], {
      dir,
      extra: ["--target", "linux/s390x", "--strict"],
    });
    failsWith(outcome, "TARGET_NOT_DECLARED");
    assert.deepEqual(await readdir(out), []);
  });
});

test("copy to an output under /proc fails fast with OUTPUT_UNWRITABLE", async () => {
  const source = fixture("pack/hello-universe.cnb");
  for (const destination of [
    `oci:/proc/polypack-test-${process.pid}/oci`,
    `/proc/polypack-test-${process.pid}/x.cnb`,
  ]) {
    const outcome = await polypack(["copy", source, destination], { timeoutMs: 60_000 });
    failsWith(outcome, "OUTPUT_UNWRITABLE", ["/proc/"]);
  }
});

test("an undeclared --target is refused before any work, after the warnings that explain it (a misspelt key)", async () => {
  const dir = await tempDir();
  const src = await writeTree(
    buildpackFiles(buildpackToml(targetsToml("linux/amd64") + "\n[buildpack.extra]\n")),
  );
  const args = ["buildpack", "package", join(dir, "out.cnb"), "--path", src, "--format", "file"];
  const outcome = await polypack([...args, "--target", "linux/arm64"]);
  failsWith(outcome, "TARGET_NOT_DECLARED", [
    "--target linux/arm64 is not among the targets buildpack.toml declares: linux/amd64",
    "verification would refuse it",
  ]);
  assert.match(outcome.stderr, /--no-verify/);
  assert.match(outcome.stderr, /warning: .*buildpack\.toml: ignoring key/);
  assert.ok(
    outcome.stderr.indexOf("ignoring key") < outcome.stderr.indexOf("error[TARGET_NOT_DECLARED]"),
    "the warning comes before the error",
  );
  assert.deepEqual(await readdir(dir), [], "nothing written");
  // With --no-verify it is packaged, as pack does, with a warning.
  const unverified = await polypack([...args, "--target", "linux/arm64", "--no-verify"]);
  assert.equal(unverified.code, 0, unverified.stderr);
  assert.match(unverified.stderr, /warning: --target linux\/arm64 is not among .*packaging it anyway/);
});
