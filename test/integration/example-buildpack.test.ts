/**
 * The bundled example buildpack (examples/hello-multiarch): its pre-package script cross-compiles
 * real binaries for each target, reproducibly, falls back to shell scripts without Go, and its
 * buildpack.toml declares the true checksums of the dependency files it ships.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { parse } from "smol-toml";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const TARGETS = ["linux/amd64", "linux/arm64"] as const;

/** Walks up from this file (in dist/ or another out dir) to the checkout's root. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "examples", "hello-multiarch", "buildpack.toml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples/hello-multiarch not found above the test file");
    dir = parent;
  }
  return dir;
}

const EXAMPLE = join(repositoryRoot(), "examples", "hello-multiarch");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and reports how it ended instead of throwing, for exit-code assertions. */
function outcome(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(program, args, { env, cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh copy of the example without anything a previous build left behind. */
async function copyExample(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await cp(EXAMPLE, dir, { recursive: true, filter: (source) => source !== join(EXAMPLE, "linux") });
  return dir;
}

/** Runs the pre-package step the way polypack does, from the buildpack directory. */
function prePackage(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return outcome(
    join(dir, "scripts", "build.sh"),
    [],
    { ...env, POLYPACK_TARGETS: TARGETS.join(" "), POLYPACK_BUILDPACK_DIR: dir },
    dir,
  );
}

async function sha256File(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

/** The string-valued keys of a parsed `[[metadata.dependencies]]` entry. */
function stringKeys(entry: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => typeof value === "string")) as Record<
    string,
    string | undefined
  >;
}

/** A PATH holding the tools build.sh and scripts/sh/run use, but not `go`. */
async function pathWithoutGo(parent: string): Promise<string> {
  const bin = join(parent, "bin-without-go");
  await mkdir(bin);
  const tools = ["bash", "sh", "env", "dirname", "basename", "rm", "mkdir", "cp", "chmod", "ln"];
  tools.push("uname", "awk", "sort", "tail", "cat", "sha256sum", "cut", "tar", "gzip", "wc", "tr");
  const searchPath = (process.env["PATH"] ?? "").split(delimiter);
  for (const tool of tools) {
    const found = searchPath.map((dir) => join(dir, tool)).find((path) => existsSync(path));
    assert.ok(found, `${tool} is needed for this test`);
    await symlink(found, join(bin, tool));
  }
  return bin;
}

/** Where bin/build installs the hello-runtime program, below the layers folder. */
const RUNTIME_PROGRAM = "hello/hello-runtime/bin/hello-runtime";

/** A gzip-compressed tar archive holding a symbolic link, which bin/build must refuse to unpack. */
async function archiveWithLink(parent: string): Promise<Buffer> {
  const stage = await mkdtemp(join(parent, "link-"));
  await mkdir(join(stage, "hello-runtime"));
  await symlink("/etc/passwd", join(stage, "hello-runtime", "link"));
  await run("tar", ["-czf", join(stage, "link.tgz"), "-C", stage, "hello-runtime"]);
  return readFile(join(stage, "link.tgz"));
}

describe("examples/hello-multiarch", () => {
  test("build.sh cross-compiles one binary per target, with build and detect linked to it", async () => {
    const dir = await copyExample(await tempDir(), "hello-multiarch");
    const result = await prePackage(dir);
    assert.equal(result.code, 0, result.stderr);

    const expectedMachine = { "linux/amd64": "x86-64", "linux/arm64": "ARM aarch64" };
    for (const target of TARGETS) {
      const bin = join(dir, target, "bin");
      const description = await run("file", ["--brief", join(bin, "run")]);
      assert.match(description, /^ELF 64-bit LSB executable/);
      assert.ok(description.includes(expectedMachine[target]), `${target}: ${description}`);
      assert.match(description, /statically linked/);
      assert.equal(await readlink(join(bin, "build")), "run");
      assert.equal(await readlink(join(bin, "detect")), "run");
    }

    // A second run must not fail on the existing symlinks, and must drop a target no longer asked for.
    const again = await outcome(join(dir, "scripts", "build.sh"), [], {
      ...process.env,
      POLYPACK_TARGETS: "linux/amd64",
    });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(existsSync(join(dir, "linux/amd64/bin/run")));
    assert.ok(!existsSync(join(dir, "linux/arm64")), "stale linux/arm64 folder left behind");
  });

  test("the arm64 binary runs under qemu as detect and build, and installs and runs the arm64 dependency", async () => {
    const parent = await tempDir();
    const dir = await copyExample(parent, "hello-multiarch");
    const built = await prePackage(dir);
    assert.equal(built.code, 0, built.stderr);
    const qemu = "qemu-aarch64-static";
    const targetEnv = { ...process.env, CNB_TARGET_OS: "linux", CNB_TARGET_ARCH: "arm64" };

    // qemu passes the path it was given as argv[0], so the symlink's name selects detect.
    const detect = await outcome(qemu, [join(dir, "linux/arm64/bin/detect")], targetEnv);
    assert.equal(detect.code, 0, detect.stderr);
    assert.equal(detect.stdout.trim(), "hello-multiarch detect: built for linux/arm64, target linux/arm64");
    assert.equal(detect.stderr, "");

    const failing = await outcome(qemu, [join(dir, "linux/arm64/bin/detect")], {
      ...targetEnv,
      HELLO_FAIL_DETECT: "1",
    });
    assert.equal(failing.code, 100);

    // The build starts the program it installed; proot -q runs that child under qemu too.
    const layers = await mkdtemp(join(parent, "layers-"));
    const build = await outcome("proot", ["-q", qemu, join(dir, "linux/arm64/bin/build"), layers], {
      ...targetEnv,
      CNB_BUILDPACK_DIR: dir,
    });
    assert.equal(build.code, 0, build.stderr);
    assert.match(build.stdout, /built for linux\/arm64, target linux\/arm64/);
    assert.match(
      build.stdout,
      /installing hello-runtime 1\.1\.0 from file:dependencies-src\/hello-runtime-1\.1\.0-linux-arm64\.tgz/,
    );
    assert.match(build.stdout, /^hello-multiarch build: hello-runtime says: hello-runtime 1\.1\.0 arm64$/m);
    assert.match(
      await run("file", ["--brief", join(layers, RUNTIME_PROGRAM)]),
      /^ELF 64-bit LSB executable, ARM aarch64/,
    );
    assert.equal(await readFile(join(layers, "hello/env/HELLO_ARCH"), "utf8"), "arm64");
    assert.equal(await readFile(join(layers, "hello/env/HELLO_RUNTIME_VERSION"), "utf8"), "1.1.0");
    assert.equal(
      await readFile(join(layers, "hello/env/PATH.prepend"), "utf8"),
      join(layers, "hello/hello-runtime/bin"),
    );
    assert.match(await readFile(join(layers, "hello.toml"), "utf8"), /launch = true/);

    // The native amd64 binary honours a requested version and finds buildpack.toml on its own.
    const amd64Layers = await mkdtemp(join(parent, "layers-"));
    const pinned = await outcome(join(dir, "linux/amd64/bin/build"), [], {
      ...process.env,
      CNB_LAYERS_DIR: amd64Layers,
      CNB_TARGET_OS: "linux",
      CNB_TARGET_ARCH: "amd64",
      BP_HELLO_RUNTIME_VERSION: "1.0.0",
    });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.match(
      pinned.stdout,
      /hello-runtime 1\.0\.0 from file:dependencies-src\/hello-runtime-1\.0\.0-linux-amd64\.tgz/,
    );
    assert.match(pinned.stdout, /^hello-multiarch build: hello-runtime says: hello-runtime 1\.0\.0 amd64$/m);
    assert.equal(await readFile(join(amd64Layers, "hello/env/HELLO_ARCH"), "utf8"), "amd64");
  });

  test("both bin/build variants refuse an archive that fails its checksum or would leave the layer, writing no layer", async () => {
    const parent = await tempDir();
    const dir = await copyExample(parent, "hello-multiarch");
    const built = await prePackage(dir);
    assert.equal(built.code, 0, built.stderr);
    const script = join(parent, "sh-variant", "build");
    await mkdir(dirname(script));
    await cp(join(dir, "scripts/sh/run"), join(dirname(script), "run"));
    await symlink("run", script);
    const descriptor = await readFile(join(dir, "buildpack.toml"), "utf8");
    const archive = "dependencies-src/hello-runtime-1.1.0-linux-amd64.tgz";
    const declared = `sha256:${await sha256File(join(dir, archive))}`;

    // Each case rewrites the amd64 1.1.0 entry (or its archive) and expects this on stderr.
    const cases: { name: string; uri?: string; archive?: Buffer; message: RegExp }[] = [
      {
        name: "checksum",
        archive: Buffer.from("not the archive"),
        message: /but buildpack.toml declares sha256:/,
      },
      {
        name: "escaping uri",
        uri: "file:dependencies-src/../../outside.tgz",
        message: /not a plain path inside the buildpack/,
      },
      { name: "missing file", uri: "file:dependencies-src/absent.tgz", message: /absent\.tgz/ },
      { name: "link in the archive", archive: await archiveWithLink(parent), message: /hello-runtime\/link/ },
    ];
    for (const c of cases) {
      await writeFile(join(dir, archive), c.archive ?? (await readFile(join(EXAMPLE, archive))));
      const checksum = c.archive
        ? `sha256:${createHash("sha256").update(c.archive).digest("hex")}`
        : declared;
      const text = c.name === "checksum" ? descriptor : descriptor.replace(declared, checksum);
      await writeFile(join(dir, "buildpack.toml"), c.uri ? text.replace(`file:${archive}`, c.uri) : text);
      for (const program of [join(dir, "linux/amd64/bin/build"), script]) {
        const layers = await mkdtemp(join(parent, "layers-"));
        const result = await outcome(program, [layers], {
          ...process.env,
          CNB_BUILDPACK_DIR: dir,
          CNB_TARGET_OS: "linux",
          CNB_TARGET_ARCH: "amd64",
        });
        assert.equal(result.code, 1, `${c.name}, ${program}: ${result.stdout}`);
        assert.match(
          result.stderr,
          /^hello-multiarch build: hello-runtime 1\.1\.0: /m,
          `${c.name}, ${program}`,
        );
        assert.match(result.stderr, c.message, `${c.name}, ${program}`);
        assert.deepEqual(await readdir(layers), [], `${c.name}, ${program}: a layer was left`);
      }
    }
    assert.ok(!existsSync(join(parent, "outside.tgz")));
  });

  test("the binaries are byte-for-byte the same when built in two different directories", async () => {
    const parent = await tempDir();
    const first = await copyExample(parent, "a");
    const second = await copyExample(join(parent, "somewhere", "deeper"), "b");
    for (const dir of [first, second]) {
      const result = await prePackage(dir);
      assert.equal(result.code, 0, result.stderr);
    }
    for (const target of TARGETS) {
      const path = join(target, "bin", "run");
      assert.equal(await sha256File(join(first, path)), await sha256File(join(second, path)), path);
    }
  });

  test("without go on PATH, build.sh installs the shell-script variant, which works", async () => {
    const parent = await tempDir();
    const dir = await copyExample(parent, "hello-multiarch");
    const PATH = await pathWithoutGo(parent);
    const env = { ...process.env, PATH };
    assert.notEqual((await outcome("bash", ["-c", "command -v go"], env)).code, 0, "go is still on PATH");

    const result = await prePackage(dir, env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /go is not on PATH; installing the shell-script variant/);
    const script = await readFile(join(EXAMPLE, "scripts/sh/run"), "utf8");
    for (const target of TARGETS) {
      const bin = join(dir, target, "bin");
      assert.equal(await readFile(join(bin, "run"), "utf8"), script);
      assert.equal(await readlink(join(bin, "detect")), "run");
      assert.equal(await readlink(join(bin, "build")), "run");
    }

    const targetEnv = { ...env, CNB_TARGET_OS: "linux", CNB_TARGET_ARCH: "arm64" };
    const detect = await outcome(join(dir, "linux/arm64/bin/detect"), [], targetEnv);
    assert.equal(detect.code, 0, detect.stderr);
    assert.match(detect.stdout, /^hello-multiarch detect: shell script on linux\/\S+, target linux\/arm64$/m);
    const failing = await outcome(join(dir, "linux/arm64/bin/detect"), [], {
      ...targetEnv,
      HELLO_FAIL_DETECT: "1",
    });
    assert.equal(failing.code, 100);

    // A script runs on any machine, but the program it installs and starts is this machine's.
    const layers = await mkdtemp(join(parent, "layers-"));
    const build = await outcome(join(dir, "linux/amd64/bin/build"), [layers], {
      ...env,
      CNB_TARGET_OS: "linux",
      CNB_TARGET_ARCH: "amd64",
    });
    assert.equal(build.code, 0, build.stderr);
    assert.match(
      build.stdout,
      /installing hello-runtime 1\.1\.0 from file:dependencies-src\/hello-runtime-1\.1\.0-linux-amd64\.tgz/,
    );
    assert.match(build.stdout, /^hello-multiarch build: installed 6 files of hello-runtime 1\.1\.0 into /m);
    assert.match(build.stdout, /^hello-multiarch build: hello-runtime says: hello-runtime 1\.1\.0 amd64$/m);
    assert.match(await run("file", ["--brief", join(layers, RUNTIME_PROGRAM)]), /x86-64/);
    assert.equal(await readFile(join(layers, "hello/env/HELLO_ARCH"), "utf8"), "amd64");
    assert.equal(
      await readFile(join(layers, "hello/env/PATH.prepend"), "utf8"),
      join(layers, "hello/hello-runtime/bin"),
    );
  });

  test("buildpack.toml declares the real sha256 of every committed dependency file", async () => {
    const document = parse(await readFile(join(EXAMPLE, "buildpack.toml"), "utf8"));
    const metadata = document["metadata"] as Record<string, unknown>;
    const dependencies = (metadata["dependencies"] as Record<string, unknown>[]).map(stringKeys);
    assert.deepEqual(dependencies.map((d) => `${d.id}@${d.version}:${d.arch ?? "any"}`).sort(), [
      "hello-docs@1.0.0:any",
      "hello-runtime@1.0.0:amd64",
      "hello-runtime@1.0.0:arm64",
      "hello-runtime@1.1.0:amd64",
      "hello-runtime@1.1.0:arm64",
    ]);
    for (const dependency of dependencies) {
      for (const [uri, checksum] of [
        [dependency.uri, dependency.checksum],
        [dependency.source, dependency["source-checksum"]],
      ]) {
        assert.match(uri ?? "", /^file:[^/]/, `${dependency.id}: expected a relative file: URI`);
        const digest = await sha256File(join(EXAMPLE, (uri ?? "").slice("file:".length)));
        assert.equal(checksum, `sha256:${digest}`, `checksum of ${uri}`);
      }
      // Each tarball says what it is, so installing the wrong one would be visible.
      const archive = join(EXAMPLE, (dependency.uri ?? "").slice("file:".length));
      const say = async (file: string) =>
        (await run("tar", ["-xzOf", archive, `${dependency.id}/${file}`])).trim();
      assert.equal(await say("VERSION"), dependency.version);
      assert.equal(await say("ARCH"), dependency.arch ?? "any");
      if (dependency.arch === undefined) continue;
      // A per-architecture archive holds a real program for that machine, which says what it is.
      const unpacked = await tempDir();
      await run("tar", ["-xzf", archive, "-C", unpacked]);
      const program = join(unpacked, dependency.id!, "bin", dependency.id!);
      const machine = dependency.arch === "arm64" ? /ARM aarch64/ : /x86-64/;
      const description = await run("file", ["--brief", program]);
      assert.match(description, /^ELF 64-bit LSB executable, .*, statically linked/);
      assert.match(description, machine, `${archive}: ${description}`);
      const runner = dependency.arch === "arm64" ? ["qemu-aarch64-static", program] : [program];
      assert.equal(
        await run(runner[0]!, runner.slice(1)),
        `${dependency.id} ${dependency.version} ${dependency.arch}\n`,
      );
    }
    // The unknown table the example keeps to show that packaging preserves it.
    assert.ok(metadata["example-extra"], "[metadata.example-extra] is missing");
  });

  test("make-dependencies.sh regenerates the committed tarballs byte for byte", async () => {
    const dir = await copyExample(await tempDir(), "hello-multiarch");
    const script = join(dir, "scripts", "make-dependencies.sh");
    const output = await run(script, [], { cwd: dir, env: { ...process.env } });
    assert.match(output, /all 10 checksums of file: URIs match/);
    const names = await readdir(join(EXAMPLE, "dependencies-src"));
    assert.equal(names.length, 8);
    for (const name of names) {
      const committed = await sha256File(join(EXAMPLE, "dependencies-src", name));
      assert.equal(await sha256File(join(dir, "dependencies-src", name)), committed, name);
    }
  });
});
