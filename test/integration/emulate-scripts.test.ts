/**
 * `polypack test` end to end with a shell-script buildpack: its bin/build writes `uname -m` into a
 * layer file, run in the build image's own busybox root filesystem (made by the tests, served by a
 * real registry) for linux/amd64 under proot and linux/arm64 under proot + qemu-user, and natively
 * without a build image. Then the failures a buildpack author must be told about.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { findProgram } from "../../src/emulate/emulator.js";
import type { TestReport } from "../../src/emulate/test-run.js";
import { baseIndex, lifecycleIndex, publish, standInProgram, TEST_ARCHES } from "../support/base-images.js";
import { polypack, type Outcome } from "../support/cli.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const DISTRO = {
  "io.buildpacks.base.distro.name": "polypack-test",
  "io.buildpacks.base.distro.version": "1.0",
};

const DETECT = `#!/bin/sh
echo "detect on $(uname -m) for $CNB_TARGET_OS/$CNB_TARGET_ARCH distro $CNB_TARGET_DISTRO_NAME $CNB_TARGET_DISTRO_VERSION"
if [ -n "$FAIL_DETECT" ]; then echo "not this app"; exit 100; fi
cat > "$CNB_BUILD_PLAN_PATH" <<EOT
[[provides]]
name = "machine"
[[requires]]
name = "machine"
[requires.metadata]
asked-by = "detect"
EOT
`;

const BUILD = `#!/bin/sh
set -e
echo "build on $(uname -m) in $(pwd) with plan:"
cat "$CNB_BP_PLAN_PATH"
[ "$1" = "$CNB_LAYERS_DIR" ] || { echo "first argument $1 is not CNB_LAYERS_DIR $CNB_LAYERS_DIR" >&2; exit 9; }
if [ -n "$FAIL_BUILD" ]; then echo "build failed on purpose" >&2; exit 3; fi
if [ -n "$SLOW_BUILD" ]; then sleep 4711 & sleep 60; fi
mkdir -p "$CNB_LAYERS_DIR/machine/bin" "$CNB_LAYERS_DIR/machine/env"
printf '%s' "$CNB_LAYERS_DIR/machine/bin" > "$CNB_LAYERS_DIR/machine/env/PATH.prepend"
echo "buildpack $CNB_BUILDPACK_DIR platform $CNB_PLATFORM_DIR plan $CNB_BP_PLAN_PATH tmp $TMPDIR"
uname -m > "$CNB_LAYERS_DIR/machine/uname"
printf '[types]\\nlaunch = true\\ncache = true\\n' > "$CNB_LAYERS_DIR/machine.toml"
printf '[[processes]]\\ntype = "web"\\ncommand = ["cat", "/layers/test_uname/machine/uname"]\\ndefault = true\\n' > "$CNB_LAYERS_DIR/launch.toml"
echo '{}' > "$CNB_LAYERS_DIR/machine.sbom.cdx.json"
if [ -n "$INSTALL_AMD64_TOOL" ]; then cp "$CNB_BUILDPACK_DIR/tools/amd64-tool" "$CNB_LAYERS_DIR/machine/bin/tool"; fi
echo "app file: $(cat app.txt)" > written-by-build
`;

let registry: RegistryHandle;
let work: string;
let buildpack: string;
/** The buildpack packaged once as a .cnb, so most tests skip packaging (and cover .cnb sources). */
let cnb: string;
let app: string;

before(async () => {
  registry = await startRegistry();
  work = await tempDir("polypack-emulate-");
  const host = registry.host;
  await Promise.all([
    baseIndex(TEST_ARCHES, { cnbUser: { uid: 1000, gid: 1000 }, labels: DISTRO }).then((i) =>
      publish(i, `${host}/stack/build:1`),
    ),
    baseIndex(["amd64"], { cnbUser: { uid: 1000, gid: 1000 }, labels: DISTRO }).then((i) =>
      publish(i, `${host}/stack/build-amd64:1`),
    ),
  ]);
  buildpack = join(work, "uname-buildpack");
  await mkdir(join(buildpack, "bin"), { recursive: true });
  await mkdir(join(buildpack, "tools"), { recursive: true });
  await writeFile(
    join(buildpack, "buildpack.toml"),
    'api = "0.10"\n[buildpack]\nid = "test/uname"\nversion = "1.0.0"\n' +
      '[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "arm64"\n',
  );
  await writeFile(join(buildpack, "bin", "detect"), DETECT, { mode: 0o755 });
  await writeFile(join(buildpack, "bin", "build"), BUILD, { mode: 0o755 });
  // A program built for amd64 whatever the target, for the wrong-architecture check.
  await writeFile(join(buildpack, "tools", "amd64-tool"), await standInProgram("amd64"), { mode: 0o755 });
  cnb = join(work, "uname.cnb");
  // The tool is foreign on arm64 on purpose: packaging is told so, as a cross-compiler would be.
  const packaged = await polypack([
    "buildpack",
    "package",
    cnb,
    "--path",
    buildpack,
    "--format",
    "file",
    "--allow",
    "cnb/buildpacks/*/*/tools/amd64-tool",
  ]);
  assert.equal(packaged.code, 0, packaged.stderr);
  app = join(work, "app");
  await mkdir(app);
  await writeFile(join(app, "app.txt"), "hello app\n");
});

after(async () => {
  await registry?.stop();
});

function report(outcome: Outcome): TestReport & { error?: { code: string } } {
  // stdout is one JSON document, passed or failed: a failed run's report carries the error.
  return JSON.parse(outcome.stdout) as TestReport & { error?: { code: string } };
}

describe("polypack test with a shell-script buildpack", () => {
  it("runs detect and build in the build image's root filesystem for amd64 (proot) and arm64 (proot + qemu)", async () => {
    const layers = join(work, "kept");
    const outcome = await polypack([
      "--json",
      "test",
      buildpack,
      "--allow",
      "cnb/buildpacks/*/*/tools/amd64-tool",
      "--build-image",
      `${registry.host}/stack/build:1`,
      "--app",
      app,
      "--layers",
      layers,
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = report(outcome);
    assert.equal(result.passed, true);
    assert.deepEqual(
      result.targets.map((t) => [t.platform, t.emulation]),
      [
        ["linux/amd64", "proot"],
        ["linux/arm64", "proot + qemu-aarch64-static"],
      ],
    );
    for (const [target, machine] of [
      ["linux-amd64", "x86_64"],
      ["linux-arm64", "aarch64"],
    ] as const) {
      assert.equal(
        await readFile(join(layers, target, "test_uname", "machine", "uname"), "utf8"),
        `${machine}\n`,
      );
    }
    const arm = result.targets[1]!;
    assert.deepEqual(arm.distro, { name: "polypack-test", version: "1.0" });
    assert.match(
      arm.groups[0]!.detect[0]!.stdout,
      /detect on aarch64 for linux\/arm64 distro polypack-test 1\.0/,
    );
    assert.deepEqual(arm.groups[0]!.plan, [
      { buildpack: "test/uname@1.0.0", entries: [{ name: "machine", metadata: { "asked-by": "detect" } }] },
    ]);
    const build = arm.builds[0]!;
    assert.match(
      build.stdout,
      /build on aarch64 in \/workspace with plan:\n\[\[entries\]\]\nname = "machine"/,
    );
    assert.deepEqual(build.layers?.layers, [
      { name: "machine", types: { launch: true, build: false, cache: true }, hasFolder: true },
    ]);
    assert.deepEqual(build.layers?.processes, [
      { type: "web", command: ["cat", "/layers/test_uname/machine/uname"], args: [], default: true },
    ]);
    assert.deepEqual(build.layers?.sbom, ["machine.sbom.cdx.json"]);
    // The app is a copy: the build wrote into /workspace, not into the user's folder.
    assert.equal(await readFile(join(app, "written-by-build"), "utf8").catch(() => "absent"), "absent");
  });

  it("runs natively without a build image on this machine's own architecture, at the lifecycle's paths", async () => {
    const layers = join(work, "kept-native");
    const outcome = await polypack(["--json", "test", cnb, "--target", "linux/amd64", "--layers", layers]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const result = report(outcome);
    assert.equal(result.targets[0]!.emulation, "native");
    const kept = join(layers, "linux-amd64", "test_uname", "machine");
    assert.equal(await readFile(join(kept, "uname"), "utf8"), "x86_64\n");
    // What the buildpack wrote from CNB_LAYERS_DIR is the path it has in an image, not a host
    // temporary folder that is gone once the run ends.
    assert.equal(await readFile(join(kept, "env", "PATH.prepend"), "utf8"), "/layers/test_uname/machine/bin");
    const build = result.targets[0]!.builds[0]!;
    assert.match(
      build.stdout,
      /build on x86_64 in \/workspace with plan:[^]*buildpack \/cnb\/buildpacks\/test_uname\/1\.0\.0 platform \/platform plan \/tmp\/plans\/test_uname\/plan\.toml/,
    );
    assert.doesNotMatch(outcome.stdout, /polypack-test-run-/);
  });

  it("fails a target whose detect fails, and one whose build exits non-zero, with their output", async () => {
    const detect = await polypack(["test", cnb, "--target", "linux/amd64", "--env", "FAIL_DETECT=1"]);
    assert.equal(detect.code, 1);
    assert.match(detect.stdout, /linux\/amd64: FAIL/);
    assert.match(detect.stdout, /detect test\/uname@1\.0\.0: fail \(exit 100/);
    assert.match(detect.stdout, /out\| not this app/);
    assert.match(
      detect.stderr,
      /error\[TEST_FAILED\]: 1 of 1 targets failed: linux\/amd64 \(no group passed detection/,
    );

    const build = await polypack([
      "test",
      cnb,
      "--target",
      "linux/arm64",
      "--build-image",
      `${registry.host}/stack/build:1`,
      "--env",
      "FAIL_BUILD=1",
    ]);
    assert.equal(build.code, 1);
    assert.match(build.stdout, /build test\/uname@1\.0\.0: error \(exit 3/);
    assert.match(build.stdout, /err\| build failed on purpose/);
    assert.match(build.stderr, /linux\/arm64 \(test\/uname@1\.0\.0 build exited with code 3\)/);
  });

  it("fails an arm64 build that installs an x86-64 program, naming the file", async () => {
    const outcome = await polypack([
      "--json",
      "test",
      cnb,
      "--build-image",
      `${registry.host}/stack/build:1`,
      "--env",
      "INSTALL_AMD64_TOOL=1",
    ]);
    assert.equal(outcome.code, 1);
    const result = report(outcome);
    assert.equal(result.error?.code, "TEST_FAILED");
    assert.deepEqual(
      result.targets.map((t) => t.passed),
      [true, false],
    );
    assert.deepEqual(result.targets[1]!.builds[0]!.layers?.problems, [
      { path: "/layers/test_uname/machine/bin/tool", found: "ELF 64-bit LSB amd64" },
    ]);
    assert.match(
      outcome.stderr,
      /linux\/arm64 \(.*\/layers\/test_uname\/machine\/bin\/tool, ELF 64-bit LSB amd64/,
    );
  });

  it("a script buildpack for a foreign target without --build-image: the failure line says to give one", async () => {
    const outcome = await polypack(["test", cnb, "--target", "linux/arm64"]);
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /^error\[TEST_FAILED\]: .*linux\/arm64 \(no group passed detection: test\/uname@1\.0\.0 detect exited with code \d+ \(a script needs its interpreter: give --build-image\)\)/m,
    );
  });

  it("fails a target the build image has no image for", async () => {
    const outcome = await polypack([
      "test",
      cnb,
      "--target",
      "linux/arm64",
      "--build-image",
      `${registry.host}/stack/build-amd64:1`,
    ]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /build image .*stack\/build-amd64:1 has no image for linux\/arm64/);
  });

  it("stops a build that runs past --timeout, with its process tree", async () => {
    const started = Date.now();
    const outcome = await polypack([
      "test",
      cnb,
      "--target",
      "linux/arm64",
      "--build-image",
      `${registry.host}/stack/build:1`,
      "--env",
      "SLOW_BUILD=1",
      "--timeout",
      "2",
    ]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stdout, /build test\/uname@1\.0\.0: error \(timed out/);
    assert.match(outcome.stderr, /timed out after 2 s and was stopped/);
    assert.ok(Date.now() - started < 30_000, "the sleeping build was not left to finish");
    // The build's own child (started in the background) went with it.
    const left = await run("ps", ["-eo", "args"]);
    assert.doesNotMatch(left, /sleep 4711/);
  });

  it("without proot, a native target still runs, directly at host paths, and the report says so", async () => {
    // A PATH with the build script's tools but no proot.
    const bin = join(work, "no-proot-bin");
    await mkdir(bin, { recursive: true });
    for (const tool of ["cat", "cp", "mkdir", "uname"]) {
      const found = await findProgram(tool, process.env["PATH"] ?? "");
      assert.ok(found !== undefined, tool);
      await symlink(found, join(bin, tool));
    }
    const outcome = await polypack(["--json", "test", cnb, "--target", "linux/amd64"], {
      env: { PATH: bin },
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    const target = report(outcome).targets[0]!;
    assert.equal(target.emulation, "native, host paths (no proot)");
    assert.match(
      target.builds[0]!.stdout,
      /build on x86_64 in \/.*polypack-test-run-.*\/workspace with plan/,
    );
  });

  it("SIGINT in the middle of a build: exit 130, the build's process tree stopped, its scratch folders gone", async () => {
    // The run's own temporary folder, so what it leaves there can be listed.
    const tmp = join(work, "interrupt-tmp");
    await mkdir(tmp);
    const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "bin.js");
    const child = spawn(
      process.execPath,
      [cli, "test", cnb, "--target", "linux/amd64", "--env", "SLOW_BUILD=1"],
      { env: { ...process.env, CI: "true", TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    for (let waited = 0; !stderr.includes("build test/uname"); waited += 20) {
      assert.ok(waited < 20_000, `the build never started: ${stderr}`);
      await delay(20);
    }
    // The build is started and sleeping; its scratch folder exists.
    for (let waited = 0; !(await run("ps", ["-eo", "args"])).includes("sleep 4711"); waited += 50) {
      assert.ok(waited < 10_000, "the build's background sleep never started");
      await delay(50);
    }
    child.kill("SIGINT");
    assert.equal(await ended, 130, stderr);
    assert.match(stderr, /error\[INTERRUPTED\]: interrupted by SIGINT/);
    assert.deepEqual(await readdir(tmp), [], "no scratch folder is left in the temporary directory");
    assert.doesNotMatch(await run("ps", ["-eo", "args"]), /sleep 4711/);
  });

  it("runs a builder's order: a group whose detect fails is passed over for the next", async () => {
    const host = registry.host;
    const picky = join(work, "picky-buildpack");
    await mkdir(join(picky, "bin"), { recursive: true });
    await writeFile(
      join(picky, "buildpack.toml"),
      'api = "0.10"\n[buildpack]\nid = "test/picky"\nversion = "2.0.0"\n[[targets]]\nos = "linux"\narch = "arm64"\n',
    );
    await writeFile(join(picky, "bin", "detect"), "#!/bin/sh\necho no\nexit 100\n", { mode: 0o755 });
    await writeFile(join(picky, "bin", "build"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    await lifecycleIndex("0.20.1").then((i) => publish(i, `${host}/lifecycle:0.20.1`));
    const config = join(work, "builder.toml");
    await writeFile(
      config,
      [
        "[[buildpacks]]",
        `uri = "${picky}"`,
        "[[buildpacks]]",
        `uri = "${buildpack}"`,
        "[[order]]",
        "[[order.group]]",
        'id = "test/picky"',
        "[[order]]",
        "[[order.group]]",
        'id = "test/uname"',
        "[build]",
        `image = "${host}/stack/build:1"`,
        "[[run.images]]",
        `image = "${host}/stack/build:1"`,
        "[lifecycle]",
        `uri = "docker://${host}/lifecycle:0.20.1"`,
        "",
      ].join("\n"),
    );
    const builder = join(work, "builder-layout");
    const created = await polypack([
      "builder",
      "create",
      "builder",
      "--config",
      config,
      "--allow",
      "cnb/buildpacks/*/*/tools/amd64-tool",
      "--target",
      "linux/arm64",
      "--format",
      "layout",
      "--output",
      builder,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const outcome = await polypack(["--json", "test", `oci:${builder}`, "--target", "linux/arm64"]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const target = report(outcome).targets[0]!;
    assert.equal(target.emulation, "proot + qemu-aarch64-static");
    assert.deepEqual(
      target.groups.map((g) => [g.buildpacks, g.passed]),
      [
        [["test/picky@2.0.0"], false],
        [["test/uname@1.0.0"], true],
      ],
    );
    assert.match(target.builds[0]!.stdout, /build on aarch64 in \/workspace/);
  });

  it("packages a composite folder with its package.toml and runs its order's group", async () => {
    const composite = join(work, "composite");
    await mkdir(composite, { recursive: true });
    await writeFile(
      join(composite, "buildpack.toml"),
      'api = "0.10"\n[buildpack]\nid = "test/composite"\nversion = "0.1.0"\n' +
        '[[order]]\n[[order.group]]\nid = "test/uname"\nversion = "1.0.0"\n',
    );
    await writeFile(
      join(composite, "package.toml"),
      `[buildpack]\nuri = "."\n[[dependencies]]\nuri = "${cnb}"\n`,
    );
    const outcome = await polypack([
      "--json",
      "test",
      composite,
      "--allow",
      "cnb/buildpacks/*/*/tools/amd64-tool",
      "--target",
      "linux/arm64",
      "--build-image",
      `${registry.host}/stack/build:1`,
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const target = report(outcome).targets[0]!;
    assert.deepEqual(target.groups[0]!.buildpacks, ["test/uname@1.0.0"]);
    assert.match(target.builds[0]!.stdout, /build on aarch64/);
  });

  it("names a missing proot or qemu-user program with the Debian package to install", async () => {
    const bin = join(work, "only-proot");
    await mkdir(bin, { recursive: true });
    const proot = await findProgram("proot", process.env["PATH"] ?? "");
    assert.ok(proot !== undefined, "proot is installed by scripts/install-system-deps.sh");
    await symlink(proot, join(bin, "proot"));
    const args = ["test", cnb, "--target", "linux/arm64", "--build-image", `${registry.host}/stack/build:1`];
    const noProot = await polypack(args, { env: { PATH: join(work, "empty") } });
    assert.equal(noProot.code, 1, noProot.stderr);
    assert.match(noProot.stderr, /error\[EMULATOR_MISSING\]: proot is not on PATH/);
    assert.match(noProot.stderr, /apt-get install proot/);
    const noQemu = await polypack(args, { env: { PATH: bin } });
    assert.equal(noQemu.code, 1, noQemu.stderr);
    assert.match(noQemu.stderr, /error\[EMULATOR_MISSING\]: qemu-aarch64-static is not on PATH/);
    assert.match(noQemu.stderr, /apt-get install qemu-user-static/);
  });
});
