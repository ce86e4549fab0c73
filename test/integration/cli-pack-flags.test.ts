/**
 * pack's flags and list syntax on `buildpack package`, and the scaffold of `buildpack new` and
 * `extension new`, packaged as a pack user would: every output is read back with tar and the
 * registry's own API, not with polypack.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { polypack, type Outcome } from "../support/cli.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";

/** A `.cnb` unpacked with tar: its index and, per child, the manifest, config and first layer's files. */
interface Unpacked {
  index: ImageIndex;
  children: { platform: string; manifest: ImageManifest; labels: Record<string, string>; dir: string }[];
}

async function unpack(cnb: string): Promise<Unpacked> {
  const dir = await tempDir();
  await run("tar", ["-xf", cnb, "-C", dir]);
  const blob = (digest: string): string => join(dir, "blobs", "sha256", digest.slice("sha256:".length));
  const top = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as ImageIndex;
  const root = top.manifests[0]!;
  const rootJSON = JSON.parse(await readFile(blob(root.digest), "utf8")) as ImageIndex | ImageManifest;
  const entries = "manifests" in rootJSON ? rootJSON.manifests : [{ ...root, platform: undefined }];
  const children = [];
  for (const entry of entries) {
    const manifest = JSON.parse(await readFile(blob(entry.digest), "utf8")) as ImageManifest;
    const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8")) as {
      os: string;
      architecture: string;
      config: { Labels: Record<string, string> };
    };
    const files = join(dir, `layer-${entry.digest.slice(7, 19)}`);
    await mkdir(files);
    await run("tar", ["-xzf", blob(manifest.layers.at(-1)!.digest), "-C", files]);
    children.push({
      platform: `${config.os}/${config.architecture}`,
      manifest,
      labels: config.config.Labels,
      dir: files,
    });
  }
  return { index: rootJSON as ImageIndex, children };
}

function ok(outcome: Outcome): Outcome {
  assert.equal(outcome.code, 0, outcome.stderr);
  return outcome;
}

function fails(outcome: Outcome, code: string, status: number): void {
  assert.equal(outcome.code, status, outcome.stderr);
  assert.match(outcome.stderr, new RegExp(`^error\\[${code}\\]: `, "m"), outcome.stderr);
  assert.doesNotMatch(outcome.stderr, /INTERNAL|^\s+at /m);
}

describe("buildpack new, then buildpack package with pack's flags", () => {
  let work: string;
  before(async () => {
    work = await tempDir();
    ok(await polypack(["buildpack", "new", "my-org/hello"], { cwd: work }));
  });

  test("the scaffold: [[targets]] amd64 and arm64, per-target folders, a pre-package script", async () => {
    const toml = await readFile(join(work, "hello", "buildpack.toml"), "utf8");
    assert.match(toml, /id = "my-org\/hello"/);
    assert.match(toml, /\[\[targets\]\]\n\s+os = "linux"\n\s+arch = "amd64"/);
    assert.match(toml, /\[\[targets\]\]\n\s+os = "linux"\n\s+arch = "arm64"/);
    assert.match(toml, /pre-package = "\.\/scripts\/build\.sh"/);
    for (const arch of ["amd64", "arm64"]) {
      assert.deepEqual((await readdir(join(work, "hello", "linux", arch, "bin"))).sort(), [
        "build",
        "detect",
      ]);
    }
    // A second run into the same folder replaces nothing.
    fails(await polypack(["buildpack", "new", "my-org/hello"], { cwd: work }), "OUTPUT_INVALID", 1);
  });

  test("packages as one multi-arch .cnb: NAME gets .cnb, --path may name buildpack.toml, --version and -l a=1,b=2 apply", async () => {
    const outcome = ok(
      await polypack(
        [
          "buildpack",
          "package",
          "hello-bp",
          "--path",
          join("hello", "buildpack.toml"),
          "--format",
          "file",
          "--version",
          "2.0.0",
          "-l",
          "a=1,b=2",
        ],
        { cwd: work },
      ),
    );
    assert.match(outcome.stderr, /running pre-package \.\/scripts\/build\.sh for linux\/amd64 linux\/arm64/);
    // Progress for a local file: written, never uploaded; blobs named by target; one manifest count right.
    assert.doesNotMatch(outcome.stderr, /uploaded/);
    assert.match(outcome.stderr, /blob linux\/amd64, linux\/arm64 layer sha256:\w{12} .* moved in/);
    assert.match(outcome.stderr, /blob linux\/arm64 config sha256:\w{12} .* written/);
    assert.match(outcome.stderr, /^index sha256:\w{12} written$/m);
    assert.match(outcome.stderr, /^tagged latest$/m);
    const { children } = await unpack(join(work, "hello-bp.cnb"));
    assert.deepEqual(
      children.map((c) => c.platform),
      ["linux/amd64", "linux/arm64"],
    );
    for (const child of children) {
      assert.equal(child.labels["a"], "1");
      assert.equal(child.labels["b"], "2");
      const metadata = JSON.parse(child.labels["io.buildpacks.buildpackage.metadata"]!) as {
        version: string;
      };
      assert.equal(metadata.version, "2.0.0");
      const packaged = join(child.dir, "cnb", "buildpacks", "my-org_hello", "2.0.0");
      assert.match(await readFile(join(packaged, "buildpack.toml"), "utf8"), /^\s*version = "2\.0\.0"$/m);
      assert.ok((await readdir(join(packaged, "bin"))).includes("build"));
    }
  });

  test("a {{.version}} template (Paketo's buildpack.toml) packages with --version, and without it the hint names --version", async () => {
    const dir = join(work, "templated");
    ok(await polypack(["buildpack", "new", "my-org/templated", "--path", dir, "--targets", "linux/amd64"]));
    const toml = join(dir, "buildpack.toml");
    await writeFile(
      toml,
      (await readFile(toml, "utf8")).replace('version = "1.0.0"', 'version = "{{.version}}"'),
    );
    const without = await polypack(["buildpack", "package", "t.cnb", "--path", dir, "--format", "file"], {
      cwd: work,
    });
    fails(without, "BUILDPACK_VERSION_MISSING", 1);
    assert.match(without.stderr, /^hint: .*--version 1\.2\.3/m);
    ok(
      await polypack(
        ["buildpack", "package", "t.cnb", "--path", dir, "--format", "file", "--version", "0.4.0"],
        { cwd: work },
      ),
    );
    const { children } = await unpack(join(work, "t.cnb"));
    const packaged = join(
      children[0]!.dir,
      "cnb",
      "buildpacks",
      "my-org_templated",
      "0.4.0",
      "buildpack.toml",
    );
    assert.match(await readFile(packaged, "utf8"), /^\s*version = "0\.4\.0"$/m);
  });

  test("--per-target-files writes pack's <name>-<os>-<arch>.cnb set, one platform each", async () => {
    const out = join(work, "split");
    ok(
      await polypack([
        "buildpack",
        "package",
        join(out, "hello.cnb"),
        "--path",
        join(work, "hello"),
        "--format",
        "file",
        "--per-target-files",
        "--no-pre-package",
      ]),
    );
    assert.deepEqual((await readdir(out)).sort(), [
      "hello-linux-amd64.cnb",
      "hello-linux-arm64.cnb",
      "hello.cnb.sbom",
    ]);
    // A CycloneDX and an SPDX document per platform, beside the files.
    assert.equal((await readdir(join(out, "hello.cnb.sbom"))).length, 4);
    for (const arch of ["amd64", "arm64"]) {
      const { children } = await unpack(join(out, `hello-linux-${arch}.cnb`));
      assert.deepEqual(
        children.map((c) => c.platform),
        [`linux/${arch}`],
      );
    }
  });

  test("--format image without --publish is refused before any work, suggesting what works", async () => {
    const outcome = await polypack(
      ["buildpack", "package", "hello", "--path", "hello", "--format", "image"],
      { cwd: work, timeoutMs: 30_000 },
    );
    fails(outcome, "PUBLISH_REQUIRED", 2);
    assert.match(outcome.stderr, /hint: .*--publish.*--format layout.*--format file/);
    assert.doesNotMatch(outcome.stderr, /pre-package/);
  });

  test("a Docker Hub reference that cannot be reached is REGISTRY_UNAVAILABLE, not INTERNAL", async () => {
    // Docker Hub's names fail to resolve in this process only: the test sends nothing off the machine.
    const preload = join(work, "no-docker-hub.mjs");
    await writeFile(
      preload,
      `import dns from "node:dns";
const real = dns.lookup.bind(dns);
dns.lookup = (host, options, callback) => {
  const done = typeof options === "function" ? options : callback;
  if (/(^|\\.)docker\\.io$/i.test(host)) {
    const error = Object.assign(new Error("getaddrinfo ENOTFOUND " + host), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname: host });
    process.nextTick(() => done(error));
    return;
  }
  return real(host, options, callback);
};
`,
    );
    const outcome = await polypack(
      ["buildpack", "package", "docker.io/me/hello:1", "--path", "hello", "--publish", "--no-pre-package"],
      { cwd: work, env: { NODE_OPTIONS: `--import ${preload}` }, timeoutMs: 60_000 },
    );
    fails(outcome, "REGISTRY_UNAVAILABLE", 1);
    assert.match(outcome.stderr, /index\.docker\.io/);
  });

  test("--pull-policy never refuses an image dependency of a composite instead of reading its registry", async () => {
    const dir = join(work, "composite");
    await mkdir(dir);
    await writeFile(
      join(dir, "buildpack.toml"),
      'api = "0.10"\n\n[buildpack]\n  id = "my-org/meta"\n  version = "1.0.0"\n\n[[order]]\n  [[order.group]]\n    id = "my-org/hello"\n    version = "1.0.0"\n',
    );
    await writeFile(
      join(dir, "package.toml"),
      '[buildpack]\nuri = "."\n\n[[dependencies]]\nuri = "docker://127.0.0.1:9/nothing/here:1"\n',
    );
    const outcome = await polypack(
      [
        "buildpack",
        "package",
        "meta.cnb",
        "--format",
        "file",
        "--config",
        join(dir, "package.toml"),
        "--pull-policy",
        "never",
      ],
      { cwd: work, timeoutMs: 30_000 },
    );
    fails(outcome, "IMAGE_PULL_REFUSED", 1);
    assert.match(outcome.stderr, /127\.0\.0\.1:9\/nothing\/here:1/);
    const bad = await polypack(["buildpack", "package", "x.cnb", "--pull-policy", "sometimes"], {
      cwd: work,
    });
    fails(bad, "FLAG_INVALID", 2);
  });

  test("extension new scaffolds an extension that extension package packages", async () => {
    ok(
      await polypack(["extension", "new", "my-org/tree", "--targets", "linux/amd64,linux/arm64"], {
        cwd: work,
      }),
    );
    assert.match(await readFile(join(work, "tree", "extension.toml"), "utf8"), /\[extension\]/);
    ok(await polypack(["extension", "package", "tree", "--path", "tree", "--format", "file"], { cwd: work }));
    const { children } = await unpack(join(work, "tree.cnb"));
    assert.deepEqual(
      children.map((c) => c.platform),
      ["linux/amd64", "linux/arm64"],
    );
    assert.ok(children.every((c) => "io.buildpacks.extension.layers" in c.labels));
  });
});

describe("tags as pack writes them, against a registry", () => {
  let registry: RegistryHandle;
  let bp: string;
  before(async () => {
    registry = await startRegistry();
    const work = await tempDir();
    ok(await polypack(["buildpack", "new", "my-org/tagged", "--path", join(work, "bp")]));
    bp = join(work, "bp");
  });
  after(async () => {
    await registry?.stop();
  });

  /** The repository's tags, without the `sha256-<hex>` ones of the SBOM referrers' tag scheme. */
  async function tags(repository: string): Promise<string[]> {
    const response = await fetch(`${registry.url}/v2/${repository}/tags/list`);
    assert.equal(response.status, 200, `${repository}: ${response.status}`);
    const all = ((await response.json()) as { tags: string[] }).tags;
    return all.filter((tag) => !/^sha256-[0-9a-f]{64}$/.test(tag)).sort();
  }

  test("--tag a,b gives two tags, --tag REPOSITORY:TAG tags another repository, --append-image-name-suffix each platform", async () => {
    const outcome = ok(
      await polypack([
        "--insecure-registry",
        registry.host,
        "buildpack",
        "package",
        `${registry.host}/me/tagged:1.0`,
        "--path",
        bp,
        "--publish",
        "--tag",
        "1,latest",
        "--tag",
        `${registry.host}/mirror/tagged:1.0`,
        "--append-image-name-suffix",
      ]),
    );
    assert.deepEqual(await tags("me/tagged"), [
      "1",
      "1-linux-amd64",
      "1-linux-arm64",
      "1.0",
      "1.0-linux-amd64",
      "1.0-linux-arm64",
      "latest",
      "latest-linux-amd64",
      "latest-linux-arm64",
    ]);
    assert.deepEqual(await tags("mirror/tagged"), ["1.0"]);
    // One "tagged" line with every tag written, the other repository's included.
    const tagged = outcome.stderr.split("\n").filter((line) => line.startsWith("tagged "));
    assert.equal(tagged.length, 1, outcome.stderr);
    for (const tag of ["1.0", "latest", "1.0-linux-arm64", `${registry.host}/mirror/tagged:1.0`]) {
      assert.ok(tagged[0]!.split(/, | /).includes(tag), `${tag} in ${tagged[0]}`);
    }
    assert.match(outcome.stderr, /uploaded/);
  });
});
