/**
 * End to end: `polypack buildpack package` on a copy of examples/hello-multiarch for linux/amd64 and
 * linux/arm64, checked with tools polypack does not share code with: umoci unpacks each platform,
 * `file` reads the binaries' ELF machine, qemu runs the arm64 detect, skopeo reads the .cnb.
 */
import assert from "node:assert/strict";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { parse } from "smol-toml";
import { exitStatus, type ErrorCode } from "../../src/errors/index.js";
import { readLayer } from "../../src/layer/read-layer.js";
import { OciLayout } from "../../src/layout/oci-layout.js";
import type { Descriptor } from "../../src/oci/descriptor.js";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import {
  copyExample,
  fileDigest,
  polypack,
  polypackOk,
  readJSON,
  type Outcome,
} from "./buildpack-package-support.js";

const LAYER_ROOT = "cnb/buildpacks/examples_hello-multiarch/0.1.0";
const TARGETS = ["--target", "linux/amd64", "--target", "linux/arm64"];

interface Packaged {
  work: string;
  layout: string;
  cnb: string;
  index: ImageIndex;
  indexDigest: string;
  children: Record<string, Descriptor>;
}

async function packageExample(): Promise<Packaged> {
  const work = await tempDir("polypack-e2e-");
  const bp = await copyExample(join(work, "hello-multiarch"));
  const layout = join(work, "out", "layout");
  const cnb = join(work, "out", "hello.cnb");
  await polypackOk([
    "buildpack",
    "package",
    "hello-multiarch",
    "--path",
    bp,
    ...TARGETS,
    "--format",
    "layout",
    "--output",
    layout,
  ]);
  await polypackOk([
    "buildpack",
    "package",
    "hello-multiarch",
    "--path",
    bp,
    ...TARGETS,
    "--format",
    "file",
    "--output",
    cnb,
  ]);
  const top = await readJSON<ImageIndex>(join(layout, "index.json"));
  assert.equal(top.manifests.length, 1);
  const root = top.manifests[0]!;
  assert.equal(root.annotations?.["org.opencontainers.image.ref.name"], "latest");
  const index = await readJSON<ImageIndex>(join(layout, "blobs", "sha256", root.digest.slice(7)));
  const children = Object.fromEntries(index.manifests.map((m) => [m.platform?.architecture ?? "?", m]));
  return { work, layout, cnb, index, indexDigest: root.digest, children };
}

const unpacked = new Map<string, Promise<string>>();

/** umoci needs a ref per image: a scratch copy of the layout names each child by its architecture. */
function unpack(packaged: Packaged, arch: string): Promise<string> {
  let root = unpacked.get(arch);
  if (root === undefined) {
    root = unpackOnce(packaged, arch);
    unpacked.set(arch, root);
  }
  return root;
}

async function unpackOnce(packaged: Packaged, arch: string): Promise<string> {
  const scratch = join(packaged.work, `scratch-${arch}`);
  await cp(packaged.layout, scratch, { recursive: true });
  const child = packaged.children[arch]!;
  const named = { ...child, annotations: { "org.opencontainers.image.ref.name": arch } };
  await writeFile(join(scratch, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [named] }));
  const bundle = join(packaged.work, `bundle-${arch}`);
  await run("umoci", ["unpack", "--rootless", "--image", `${scratch}:${arch}`, bundle]);
  return join(bundle, "rootfs", LAYER_ROOT);
}

function assertFailed(outcome: Outcome, code: ErrorCode): void {
  assert.equal(outcome.code, exitStatus(code), `exit code; stderr: ${outcome.stderr}`);
  assert.match(outcome.stderr, new RegExp(`^error\\[${code}\\]: `, "m"), outcome.stderr);
  assert.doesNotMatch(outcome.stderr, /^\s+at /m, "no stack trace for a user error");
}

describe("buildpack package: hello-multiarch for linux/amd64 and linux/arm64", () => {
  let packaged: Packaged;
  before(async () => {
    packaged = await packageExample();
  });

  test("the layout holds an OCI index with one image per platform", () => {
    assert.equal(packaged.index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      packaged.index.manifests.map((m) => [m.mediaType, m.platform]),
      [
        ["application/vnd.oci.image.manifest.v1+json", { architecture: "amd64", os: "linux" }],
        ["application/vnd.oci.image.manifest.v1+json", { architecture: "arm64", os: "linux" }],
      ],
    );
  });

  test("each image has one layer laid out as pack writes it, and pack's labels", async () => {
    const layout = await OciLayout.open(packaged.layout);
    for (const arch of ["amd64", "arm64"]) {
      const manifest = await readJSON<ImageManifest>(layout.blobPath(packaged.children[arch]!.digest));
      assert.equal(manifest.layers.length, 1);
      assert.equal(manifest.layers[0]!.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      const config = await readJSON<{
        architecture: string;
        os: string;
        created: string;
        config: { Labels: Record<string, string> };
        rootfs: { diff_ids: string[] };
      }>(layout.blobPath(manifest.config.digest));
      assert.equal(config.architecture, arch);
      assert.equal(config.os, "linux");
      assert.equal(config.created, "1980-01-01T00:00:01Z");
      const layers = JSON.parse(config.config.Labels["io.buildpacks.buildpack.layers"]!) as Record<
        string,
        Record<string, { layerDiffID: string; api: string }>
      >;
      assert.equal(layers["examples/hello-multiarch"]?.["0.1.0"]?.layerDiffID, config.rootfs.diff_ids[0]);
      assert.match(
        config.config.Labels["io.buildpacks.buildpackage.metadata"]!,
        /^\{"id":"examples\/hello-multiarch",/,
      );

      const names: string[] = [];
      for await (const entry of readLayer(await layout.openBlob(manifest.layers[0]!))) {
        names.push(entry.name);
        assert.deepEqual([entry.uid, entry.gid, entry.uname, entry.gname], [0, 0, "", ""]);
        assert.equal(entry.mtime.toISOString(), "1980-01-01T00:00:01.000Z");
        if (entry.type === "directory" || entry.path.endsWith("/bin/run"))
          assert.equal(entry.mode, 0o755, entry.name);
        if (entry.path.endsWith(".md") || entry.path.endsWith(".toml"))
          assert.equal(entry.mode, 0o644, entry.name);
      }
      assert.deepEqual(names, [
        "/cnb/buildpacks/examples_hello-multiarch",
        `/${LAYER_ROOT}`,
        `/${LAYER_ROOT}/README.md`,
        `/${LAYER_ROOT}/bin`,
        `/${LAYER_ROOT}/bin/build`,
        `/${LAYER_ROOT}/bin/detect`,
        `/${LAYER_ROOT}/bin/run`,
        `/${LAYER_ROOT}/buildpack.toml`,
        // pre-package copies the target's own dependency archives in, for bin/build to install.
        `/${LAYER_ROOT}/dependencies-src`,
        `/${LAYER_ROOT}/dependencies-src/hello-docs-1.0.0.tgz`,
        `/${LAYER_ROOT}/dependencies-src/hello-runtime-1.0.0-linux-${arch}.tgz`,
        `/${LAYER_ROOT}/dependencies-src/hello-runtime-1.1.0-linux-${arch}.tgz`,
      ]);
    }
  });

  test("umoci unpacks each platform; `file` sees the right ELF machine in each", async () => {
    for (const [arch, machine] of [
      ["amd64", /x86-64/],
      ["arm64", /ARM aarch64/],
    ] as const) {
      const root = await unpack(packaged, arch);
      const description = await run("file", [join(root, "bin", "run")]);
      assert.match(description, /ELF 64-bit LSB executable/);
      assert.match(description, machine);
      assert.deepEqual((await readdir(join(root, "bin"))).sort(), ["build", "detect", "run"]);
    }
  });

  test("the arm64 bin/detect runs under qemu-aarch64-static and reports arm64", async () => {
    const root = await unpack(packaged, "arm64");
    const output = await run("qemu-aarch64-static", [join(root, "bin", "detect")], {
      env: { ...process.env, CNB_TARGET_OS: "linux", CNB_TARGET_ARCH: "arm64" },
    });
    assert.match(output, /built for linux\/arm64, target linux\/arm64/);
  });

  test("each platform's buildpack.toml keeps only its architecture's dependencies and every unknown key", async () => {
    for (const arch of ["amd64", "arm64"]) {
      const root = await unpack(packaged, arch);
      const document = parse(await readFile(join(root, "buildpack.toml"), "utf8")) as {
        metadata: {
          dependencies: { id: string; arch?: string; uri: string }[];
          "example-extra": { greeting: string };
        };
      };
      const deps = document.metadata.dependencies;
      assert.deepEqual(
        deps.map((d) => `${d.id}:${d.arch ?? "any"}`),
        [`hello-runtime:${arch}`, `hello-runtime:${arch}`, "hello-docs:any"],
      );
      assert.ok(deps.every((d) => !d.uri.includes(arch === "amd64" ? "arm64" : "amd64")));
      assert.equal(document.metadata["example-extra"].greeting, "hello from an unknown table");
    }
  });

  test("the .cnb holds the same index, which skopeo finds by ref and pack by its first manifest entry", async () => {
    const raw = await run("skopeo", ["inspect", "--raw", `oci-archive:${packaged.cnb}:latest`]);
    const index = JSON.parse(raw) as ImageIndex;
    assert.deepEqual(index, packaged.index);
    const top = JSON.parse(await run("tar", ["-xOf", packaged.cnb, "/index.json"])) as ImageIndex;
    assert.equal(top.manifests[0]?.digest, packaged.indexDigest);
    assert.equal(top.manifests[1]?.digest, packaged.children["amd64"]?.digest, "pack reads the amd64 image");
  });

  test("reproducible: another path, umask 077 and another time zone give the same digests and bytes", async () => {
    const other = await copyExample(join(packaged.work, "elsewhere", "deeper", "bp"));
    const layout = join(packaged.work, "out", "layout-again");
    const cnb = join(packaged.work, "out", "again.cnb");
    const env = { TZ: "Pacific/Chatham", LC_ALL: "C" };
    for (const args of [
      ["--format", "layout", "--output", layout],
      ["--format", "file", "--output", cnb],
    ]) {
      await polypackOk(["buildpack", "package", "hello-multiarch", "--path", other, ...TARGETS, ...args], {
        umask: "077",
        env,
      });
    }
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    assert.equal(top.manifests[0]?.digest, packaged.indexDigest);
    assert.equal(await fileDigest(cnb), await fileDigest(packaged.cnb));
  });

  test("--json reports each target's digest and dependency count", async () => {
    const bp = await copyExample(join(packaged.work, "json-bp"));
    const outcome = await polypackOk([
      "--json",
      "buildpack",
      "package",
      "hello-multiarch",
      "--path",
      bp,
      "--output",
      join(packaged.work, "out", "json.cnb"),
    ]);
    const report = JSON.parse(outcome.stdout) as {
      digest: string;
      format: string;
      targets: { target: string; digest: string; dependencies: number }[];
    };
    assert.equal(report.format, "file");
    assert.equal(report.digest, packaged.indexDigest);
    assert.deepEqual(
      report.targets.map((t) => [t.target, t.digest, t.dependencies]),
      [
        ["linux/amd64", packaged.children["amd64"]!.digest, 3],
        ["linux/arm64", packaged.children["arm64"]!.digest, 3],
      ],
    );
  });
});

describe("buildpack package --offline", () => {
  test("each target's layer carries exactly its own dependencies at dependencies/<hex>, URIs pointing there", async () => {
    const work = await tempDir("polypack-offline-");
    const bp = await copyExample(join(work, "bp"));
    const layoutDir = join(work, "layout");
    await polypackOk([
      "buildpack",
      "package",
      "hello",
      "--path",
      bp,
      "--offline",
      "--cache-dir",
      join(work, "cache"),
      "--output",
      layoutDir,
    ]);
    const layout = await OciLayout.open(layoutDir);
    const top = await readJSON<ImageIndex>(join(layoutDir, "index.json"));
    const index = await readJSON<ImageIndex>(layout.blobPath(top.manifests[0]!.digest));
    const declared = parse(await readFile(join(bp, "buildpack.toml"), "utf8")) as {
      metadata: { dependencies: { arch?: string; checksum: string; uri: string }[] };
    };
    for (const child of index.manifests) {
      const arch = child.platform!.architecture;
      const own = declared.metadata.dependencies.filter((d) => d.arch === undefined || d.arch === arch);
      const manifest = await readJSON<ImageManifest>(layout.blobPath(child.digest));
      const files = new Map<string, Buffer>();
      let toml = "";
      for await (const entry of readLayer(await layout.openBlob(manifest.layers[0]!))) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.content) chunks.push(chunk);
        if (entry.path.includes("/dependencies/"))
          files.set(entry.path.split("/").pop()!, Buffer.concat(chunks));
        if (entry.path.endsWith("/buildpack.toml")) toml = Buffer.concat(chunks).toString("utf8");
      }
      const hexes = own.map((d) => d.checksum.slice("sha256:".length));
      assert.deepEqual([...files.keys()].sort(), [...hexes].sort(), `${arch} carries only its own files`);
      for (const d of own) {
        const expected = await readFile(join(bp, d.uri.slice("file:".length)));
        assert.ok(files.get(d.checksum.slice(7))?.equals(expected), `${d.uri} copied byte for byte`);
      }
      const packaged = parse(toml) as { metadata: { dependencies: { uri: string; checksum: string }[] } };
      assert.deepEqual(
        packaged.metadata.dependencies.map((d) => d.uri),
        hexes.map((hex) => `file:///dependencies/${hex}`),
      );
    }
  });
});

describe("buildpack package: bad input fails with a typed error and leaves nothing behind", () => {
  async function expectNothingLeft(outDir: string): Promise<void> {
    assert.deepEqual(await readdir(outDir), [], "no output and no temporary files");
  }

  async function attempt(bp: string, extra: string[], code: ErrorCode): Promise<void> {
    const outDir = join(bp, "..", `out-${code}`);
    await mkdir(outDir, { recursive: true });
    for (const output of [
      ["--format", "layout", "--output", join(outDir, "layout")],
      ["--format", "file", "--output", join(outDir, "hello.cnb")],
    ]) {
      assertFailed(
        await polypack(["buildpack", "package", "hello", "--path", bp, ...extra, ...output]),
        code,
      );
      await expectNothingLeft(outDir);
    }
  }

  test("arm64 binaries missing: BUILDPACK_TARGET_BINARIES_MISSING naming the target and paths", async () => {
    const bp = await copyExample(join(await tempDir("polypack-bad-"), "bp"));
    await run(join(bp, "scripts", "build.sh"), [], {
      env: { ...process.env, POLYPACK_TARGETS: "linux/amd64" },
      cwd: bp,
    });
    await attempt(bp, ["--no-pre-package", ...TARGETS], "BUILDPACK_TARGET_BINARIES_MISSING");
    const outcome = await polypack([
      "buildpack",
      "package",
      "hello",
      "--path",
      bp,
      "--no-pre-package",
      "--output",
      join(bp, "x.cnb"),
    ]);
    assert.match(outcome.stderr, /target linux\/arm64 has no bin\/build or bin\/detect/);
    assert.match(outcome.stderr, /linux\/arm64\/bin\/build, linux\/bin\/build, bin\/build/);
  });

  test("an unknown --target: TARGET_INVALID", async () => {
    const bp = await copyExample(join(await tempDir("polypack-bad-"), "bp"));
    await attempt(bp, ["--target", "linux/sparc9"], "TARGET_INVALID");
  });

  test("invalid TOML: BUILDPACK_TOML_INVALID with file and line", async () => {
    const bp = await copyExample(join(await tempDir("polypack-bad-"), "bp"));
    const text = await readFile(join(bp, "buildpack.toml"), "utf8");
    await writeFile(join(bp, "buildpack.toml"), text.replace("[buildpack]", "[buildpack"));
    await attempt(bp, [], "BUILDPACK_TOML_INVALID");
    const outcome = await polypack([
      "buildpack",
      "package",
      "hello",
      "--path",
      bp,
      "--output",
      join(bp, "x.cnb"),
    ]);
    assert.match(outcome.stderr, /buildpack\.toml:\d+: invalid TOML/);
  });

  test("a failing pre-package: PRE_PACKAGE_FAILED", async () => {
    const bp = await copyExample(join(await tempDir("polypack-bad-"), "bp"));
    await writeFile(join(bp, "scripts", "build.sh"), "#!/bin/sh\necho broken >&2\nexit 3\n", { mode: 0o755 });
    await attempt(bp, [], "PRE_PACKAGE_FAILED");
  });
});

describe("buildpack package: --dry-run and dependency resolve", () => {
  test("--dry-run --json prints the plan, runs no script and writes nothing", async () => {
    const bp = await copyExample(join(await tempDir("polypack-dry-"), "bp"));
    const outcome = await polypackOk(["--json", "buildpack", "package", "hello", "--path", bp, "--dry-run"]);
    const plan = JSON.parse(outcome.stdout) as {
      targets: { key: string; dependencies: unknown[] }[];
      layerRoot: string;
    };
    assert.deepEqual(
      plan.targets.map((t) => [t.key, t.dependencies.length]),
      [
        ["linux/amd64", 3],
        ["linux/arm64", 3],
      ],
    );
    assert.equal(plan.layerRoot, LAYER_ROOT);
    assert.deepEqual((await readdir(bp)).includes("linux"), false, "pre-package did not run");
  });

  test("dependency resolve picks the target from CNB_TARGET_ARCH, then BP_ARCH", async () => {
    const bp = await copyExample(join(await tempDir("polypack-resolve-"), "bp"));
    const args = [
      "--json",
      "dependency",
      "resolve",
      "--buildpack",
      join(bp, "buildpack.toml"),
      "--id",
      "hello-runtime",
    ];
    const fromTarget = JSON.parse(
      (await polypackOk(args, { env: { CNB_TARGET_ARCH: "arm64", BP_ARCH: "amd64" } })).stdout,
    ) as {
      version: string;
      uri: string;
      targetSource: string;
    };
    assert.deepEqual([fromTarget.version, fromTarget.targetSource], ["1.1.0", "CNB_TARGET"]);
    assert.match(fromTarget.uri, /1\.1\.0-linux-arm64/);
    const fromBpArch = JSON.parse(
      (await polypackOk([...args, "--version=1.0.*"], { env: { CNB_TARGET_ARCH: "", BP_ARCH: "arm64" } }))
        .stdout,
    ) as { version: string; uri: string; targetSource: string };
    assert.deepEqual([fromBpArch.version, fromBpArch.targetSource], ["1.0.0", "BP_ARCH"]);
    assert.match(fromBpArch.uri, /1\.0\.0-linux-arm64/);
  });
});
