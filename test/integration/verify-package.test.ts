/**
 * Wrong on purpose, each caught with a clear message, and `file` agreeing with every verdict:
 * packaging refuses an amd64 program in the arm64 folder or in the shared bin/, and an x86-64
 * shared library inside an arm64 tar.xz; `polypack verify --dependencies` finds an arm64 archive
 * listed for amd64 (served over HTTP, tar.gz and zip); a truncated layer is reported. The right
 * example passes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, readdir, realpath, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { goProgram } from "../support/go-programs.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { zipArchive } from "../support/zip-file.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

interface Finding {
  platform: string;
  check: string;
  subject: string;
  expected: string;
  found: string;
  allowed?: string;
}
interface Report {
  ok: boolean;
  findings: Finding[];
  platforms: { platform: string; programs: number; dependencies: number }[];
}

const TARGETS = '[[targets]]\nos = "linux"\narch = "amd64"\n[[targets]]\nos = "linux"\narch = "arm64"\n';

let amd64 = "";
let arm64 = "";
let served = new Map<string, Buffer>();
let server: Server;
let base = "";

before(async () => {
  [amd64, arm64] = await Promise.all([goProgram("amd64"), goProgram("arm64")]);
  server = createServer((request, response) => {
    const body = served.get(request.url ?? "");
    if (body === undefined) response.writeHead(404).end();
    else response.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
  served = new Map();
});

/** A buildpack folder: buildpack.toml (with both targets and `extra`), scripts, and `programs` copied in. */
async function buildpack(programs: Record<string, string>, extra = ""): Promise<string> {
  const dir = join(await tempDir("polypack-verify-bp-"), "bp");
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(
    join(dir, "buildpack.toml"),
    `api = "0.10"\n[buildpack]\nid = "test/verify"\nversion = "1.0.0"\n${TARGETS}${extra}`,
  );
  // pack's folder rule: a target with its own folder gets only that folder's files, so the scripts
  // go into each target's folder when there are any, else into the shared bin/.
  const perTarget = Object.keys(programs).some((path) => path.startsWith("linux/"));
  const bins = perTarget ? ["linux/amd64/bin", "linux/arm64/bin"] : ["bin"];
  for (const bin of bins) {
    await mkdir(join(dir, bin), { recursive: true });
    await writeFile(join(dir, bin, "detect"), "#!/bin/sh\nexit 0\n");
    await writeFile(join(dir, bin, "build"), '#!/bin/sh\nexec "$(dirname "$0")/run"\n');
    for (const file of ["detect", "build"]) await chmod(join(dir, bin, file), 0o755);
  }
  for (const [path, source] of Object.entries(programs)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await copyFile(source, join(dir, path));
  }
  return dir;
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

async function fileSays(path: string): Promise<string> {
  return run("file", ["-b", "-L", path]);
}

const packageArgs = (dir: string, out: string, ...more: string[]): string[] => [
  "buildpack",
  "package",
  "test/verify",
  "--path",
  dir,
  "--format",
  "layout",
  "--output",
  out,
  ...more,
];

describe("verify and the packaging refusal", () => {
  test("the right programs in each folder package and verify cleanly", async () => {
    const dir = await buildpack({ "linux/amd64/bin/run": amd64, "linux/arm64/bin/run": arm64 });
    const out = join(dir, "..", "out");
    await polypackOk(packageArgs(dir, out));
    const verified = await polypackOk(["--json", "verify", `oci:${out}`]);
    const report = JSON.parse(verified.stdout) as Report;
    assert.equal(report.ok, true);
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.platforms.map((p) => [p.platform, p.programs]),
      [
        ["linux/amd64", 1],
        ["linux/arm64", 1],
      ],
    );
    assert.match(await fileSays(join(dir, "linux/amd64/bin/run")), /x86-64/);
    assert.match(await fileSays(join(dir, "linux/arm64/bin/run")), /aarch64/);
    // --target, as buildpack package and test name a platform, is --platform's other name.
    for (const flag of ["--platform", "--target", "-t"]) {
      const one = await polypackOk(["--json", "verify", `oci:${out}`, flag, "linux/arm64"]);
      const only = JSON.parse(one.stdout) as Report;
      assert.deepEqual(
        only.platforms.map((p) => p.platform),
        ["linux/arm64"],
        flag,
      );
    }
  });

  test("an amd64 program in the arm64 folder is refused, naming platform and file; nothing is written", async () => {
    const dir = await buildpack({ "linux/amd64/bin/run": amd64, "linux/arm64/bin/run": amd64 });
    const out = join(dir, "..", "out");
    const refused = await polypack(packageArgs(dir, out));
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /error\[VERIFY_FAILED\]/);
    assert.match(
      refused.stderr,
      /linux\/arm64: \/cnb\/buildpacks\/test_verify\/1\.0\.0\/bin\/run: expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );
    assert.doesNotMatch(refused.stderr, /linux\/amd64: /);
    assert.equal(existsSync(out), false);
    assert.match(await fileSays(join(dir, "linux/arm64/bin/run")), /x86-64/);

    // --no-verify packages it, says so; `verify` then finds the same thing, and --allow accepts it.
    const skipped = await polypackOk(packageArgs(dir, out, "--no-verify"));
    assert.match(skipped.stderr, /verification skipped \(--no-verify\)/);
    const found = await polypack(["--json", "verify", `oci:${out}`]);
    assert.equal(found.code, 1);
    const report = JSON.parse(found.stdout) as Report & { error: { code: string } };
    assert.equal(report.error.code, "VERIFY_FAILED");
    assert.deepEqual(
      report.findings.map((f) => [f.platform, f.check, f.subject, f.expected]),
      [["linux/arm64", "program", "/cnb/buildpacks/test_verify/1.0.0/bin/run", "linux/arm64"]],
    );
    const text = await polypack(["verify", `oci:${out}`]);
    assert.match(text.stdout, /PLATFORM\s+FILE OR DEPENDENCY\s+EXPECTED\s+FOUND/);
    const allowed = await polypackOk(["--json", "verify", `oci:${out}`, "--allow", "**/bin/run"]);
    const allowedReport = JSON.parse(allowed.stdout) as Report;
    assert.equal(allowedReport.ok, true);
    assert.equal(allowedReport.findings[0]?.allowed, "**/bin/run");
  });

  test("an amd64 program in the shared bin/ is refused for the arm64 target only", async () => {
    const dir = await buildpack({ "bin/run": amd64 });
    const refused = await polypack(packageArgs(dir, join(dir, "..", "out")));
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /linux\/arm64: \/cnb\/buildpacks\/test_verify\/1\.0\.0\/bin\/run: expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );
    assert.doesNotMatch(refused.stderr, /linux\/amd64: /);
    assert.match(await fileSays(join(dir, "bin/run")), /x86-64/);
  });

  test("an x86-64 shared library inside an arm64 tar.xz offline dependency is refused", async () => {
    const work = await tempDir("polypack-verify-xz-");
    const libz = await hostSharedLibrary();
    await mkdir(join(work, "lib"), { recursive: true });
    await copyFile(libz, join(work, "lib", "libz.so.1"));
    await copyFile(arm64, join(work, "lib", "tool"));
    const archive = join(work, "lib-arm64.tar.xz");
    await run("tar", ["-cJf", archive, "-C", work, "lib"]);
    const dependency = [
      "[[metadata.dependencies]]",
      'id = "libz"',
      'version = "1.0.0"',
      'arch = "arm64"',
      `uri = "file://${archive}"`,
      `sha256 = "${await sha256(archive)}"`,
      "",
    ].join("\n");
    const dir = await buildpack({ "linux/amd64/bin/run": amd64, "linux/arm64/bin/run": arm64 }, dependency);
    const cache = await tempDir("polypack-verify-cache-");
    const refused = await polypack(
      packageArgs(dir, join(dir, "..", "out"), "--offline", "--cache-dir", cache),
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /linux\/arm64: \/cnb\/buildpacks\/test_verify\/1\.0\.0\/dependencies\/[0-9a-f]{64}!lib\/libz\.so\.1 \(dependency libz@1\.0\.0\): expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );
    // The arm64 program beside it passes.
    assert.doesNotMatch(refused.stderr, /!lib\/tool/);
    assert.match(await fileSays(join(work, "lib", "libz.so.1")), /shared object, x86-64/);
    assert.match(await fileSays(join(work, "lib", "tool")), /aarch64/);
  });

  test("extension package refuses an x86-64 bin/generate in the arm64 folder, naming platform and file", async () => {
    const dir = join(await tempDir("polypack-verify-ext-"), "ext");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "extension.toml"),
      `api = "0.10"\n[extension]\nid = "test/ext"\nversion = "1.0.0"\n${TARGETS}`,
    );
    for (const arch of ["amd64", "arm64"]) {
      const bin = join(dir, "linux", arch, "bin");
      await mkdir(bin, { recursive: true });
      await writeFile(join(bin, "detect"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      await copyFile(amd64, join(bin, "generate"));
    }
    const out = join(dir, "..", "out");
    const refused = await polypack([
      "extension",
      "package",
      "test/ext",
      "--path",
      dir,
      "--format",
      "layout",
      "--output",
      out,
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error\[VERIFY_FAILED\]/m);
    assert.match(
      refused.stderr,
      /linux\/arm64: \/cnb\/extensions\/test_ext\/1\.0\.0\/bin\/generate: expected linux\/arm64, found ELF 64-bit LSB amd64/,
    );
    assert.doesNotMatch(refused.stderr, /linux\/amd64: /);
    assert.ok(!existsSync(out), "nothing written");
    assert.match(await fileSays(join(dir, "linux", "arm64", "bin", "generate")), /x86-64/);
  });

  test("verify --dependencies downloads an arm64 archive listed for amd64 and names the program inside", async () => {
    const work = await tempDir("polypack-verify-http-");
    await mkdir(join(work, "node", "bin"), { recursive: true });
    await copyFile(arm64, join(work, "node", "bin", "node"));
    const tgz = join(work, "node.tgz");
    await run("tar", ["-czf", tgz, "-C", work, "node"]);
    const jar = zipArchive({
      "META-INF/MANIFEST.MF": Buffer.from("Manifest-Version: 1.0\n"),
      "lib/linux-x86_64/libjni.so": await readFile(arm64),
    });
    served.set("/node.tgz", await readFile(tgz));
    served.set("/jni.jar", jar);
    const jarPath = join(work, "jni.jar");
    await writeFile(jarPath, jar);
    const entry = (id: string, uri: string, digest: string): string =>
      `[[metadata.dependencies]]\nid = "${id}"\nversion = "1.0.0"\narch = "amd64"\nuri = "${uri}"\nsha256 = "${digest}"\n`;
    const extra =
      entry("node", `${base}/node.tgz`, await sha256(tgz)) +
      entry("jni", `${base}/jni.jar`, await sha256(jarPath));
    const dir = await buildpack({ "linux/amd64/bin/run": amd64, "linux/arm64/bin/run": arm64 }, extra);
    const out = join(dir, "..", "out");
    // Packaging without --offline downloads nothing, so it cannot see the archives; verify can.
    await polypackOk(packageArgs(dir, out));
    const cache = await tempDir("polypack-verify-cache-");
    const plain = await polypackOk(["--json", "verify", `oci:${out}`]);
    assert.equal((JSON.parse(plain.stdout) as Report).ok, true);
    const checked = await polypack([
      "--json",
      "verify",
      `oci:${out}`,
      "--dependencies",
      "--cache-dir",
      cache,
    ]);
    assert.equal(checked.code, 1, checked.stderr);
    const report = JSON.parse(checked.stdout) as Report;
    assert.deepEqual(
      report.findings.map((f) => [f.platform, f.check, f.subject, f.found]),
      [
        ["linux/amd64", "dependency", "dependency node@1.0.0!node/bin/node", "ELF 64-bit LSB arm64"],
        [
          "linux/amd64",
          "dependency",
          "dependency jni@1.0.0!lib/linux-x86_64/libjni.so",
          "ELF 64-bit LSB arm64",
        ],
      ],
    );
    assert.equal(report.platforms.find((p) => p.platform === "linux/amd64")?.dependencies, 2);
    assert.match(await fileSays(join(work, "node", "bin", "node")), /aarch64/);
  });

  test("a truncated layer is reported, not trusted", async () => {
    const dir = await buildpack({ "linux/amd64/bin/run": amd64, "linux/arm64/bin/run": arm64 });
    const out = join(dir, "..", "out");
    await polypackOk(packageArgs(dir, out));
    const index = await readJSON<{ manifests: { digest: string }[] }>(join(out, "index.json"));
    const blob = (digest: string): string => join(out, "blobs", "sha256", digest.slice(7));
    const root = await readJSON<{ manifests: { digest: string }[] }>(blob(index.manifests[0]!.digest));
    const image = await readJSON<{ layers: { digest: string; size: number }[] }>(
      blob(root.manifests[1]!.digest),
    );
    const layer = image.layers[0]!;
    await truncate(blob(layer.digest), Math.floor(layer.size / 2));
    const outcome = await polypack(["--json", "verify", `oci:${out}`]);
    assert.equal(outcome.code, 1, outcome.stderr);
    const report = JSON.parse(outcome.stdout) as Report;
    const layerFindings = report.findings.filter((f) => f.check === "layer");
    assert.equal(layerFindings.length, 1, JSON.stringify(report.findings));
    assert.equal(layerFindings[0]!.platform, "linux/arm64");
    assert.match(layerFindings[0]!.subject, new RegExp(`layer 0 \\(${layer.digest}\\)`));
  });
});

/** A real x86-64 shared library of this Debian machine (libz), for the tar.xz fixture. */
async function hostSharedLibrary(): Promise<string> {
  for (const dir of ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]) {
    if (!existsSync(dir)) continue;
    const name = (await readdir(dir)).find((n) => /^libz\.so\.1$/.test(n));
    if (name !== undefined) return realpath(join(dir, name));
  }
  throw new Error("no x86-64 libz.so.1 on this machine; the test needs Debian's zlib1g (amd64)");
}
