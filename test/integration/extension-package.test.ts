/**
 * `polypack extension package`: pack's own tree-extension.cnb is rebuilt from its files with the
 * same layer and labels byte for byte, a two-target extension becomes one index, and the wrong kind
 * of source or a target missing an executable another target has is refused.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { fixture } from "../support/fixtures.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { copyExample, polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

interface ImageConfig {
  os: string;
  architecture: string;
  rootfs: { diff_ids: string[] };
  config: { Labels: Record<string, string> };
}

const blob = (layout: string, digest: string): string => join(layout, "blobs", "sha256", digest.slice(7));

/** The one image of a .cnb or layout with a single manifest: its manifest and config. */
async function singleImage(layout: string): Promise<{ manifest: ImageManifest; config: ImageConfig }> {
  const index = await readJSON<ImageIndex>(join(layout, "index.json"));
  const manifest = await readJSON<ImageManifest>(blob(layout, index.manifests[0]!.digest));
  return { manifest, config: await readJSON<ImageConfig>(blob(layout, manifest.config.digest)) };
}

describe("extension package", () => {
  test("pack's tree-extension.cnb is rebuilt from its files: same layer diffID and labels, byte for byte", async () => {
    const work = await tempDir("polypack-extension-");
    // pack's package, unpacked with tar; its layer's files become the source folder.
    const packed = join(work, "pack");
    await mkdir(packed);
    await run("tar", ["-xf", fixture("pack/tree-extension.cnb"), "-C", packed]);
    const pack = await singleImage(packed);
    const files = join(work, "files");
    await mkdir(files);
    await run("tar", ["-xzf", blob(packed, pack.manifest.layers[0]!.digest), "-C", files]);
    const source = join(files, "cnb", "extensions", "samples-tree", "0.0.1");

    const layout = join(work, "layout");
    await polypackOk([
      "extension",
      "package",
      "samples-tree",
      "--path",
      source,
      "--format",
      "layout",
      "--output",
      layout,
    ]);
    const ours = await singleImage(layout);
    assert.deepEqual(ours.config.rootfs.diff_ids, pack.config.rootfs.diff_ids, "the same layer");
    assert.deepEqual(ours.config.config.Labels, pack.config.config.Labels, "the same labels");
    assert.match(
      ours.config.config.Labels["io.buildpacks.buildpackage.metadata"]!,
      /"stacks":null}$/,
      "an extension has no stacks",
    );
    // umoci reads the layout and finds the extension where the lifecycle looks for it.
    const bundle = join(work, "bundle");
    await run("umoci", ["unpack", "--rootless", "--image", `${layout}:latest`, bundle]);
    const unpacked = join(bundle, "rootfs", "cnb", "extensions", "samples-tree", "0.0.1");
    assert.equal(
      await readFile(join(unpacked, "bin", "generate"), "utf8"),
      await readFile(join(source, "bin", "generate"), "utf8"),
    );
  });

  test("a two-target extension is one index; a target lacking bin/generate another has is refused", async () => {
    const work = await tempDir("polypack-extension-multi-");
    const source = join(work, "ext");
    await writeFile(
      join(await mkdirp(source), "extension.toml"),
      [
        'api = "0.10"',
        "[extension]",
        'id = "test/curl"',
        'version = "1.0.0"',
        'name = "Curl <installer> & more"',
        "[[targets]]",
        'os = "linux"',
        'arch = "amd64"',
        "[[targets]]",
        'os = "linux"',
        'arch = "arm64"',
        "",
      ].join("\n"),
    );
    const script = async (path: string, text: string): Promise<void> => {
      await writeFile(join(await mkdirp(join(source, path, "..")), path.split("/").pop()!), text);
      await chmod(join(source, path), 0o755);
    };
    // A target's folder is its whole source, as in pack: each holds its own bin/detect.
    await script("linux/amd64/bin/detect", "#!/bin/sh\nexit 0\n");
    await script("linux/arm64/bin/detect", "#!/bin/sh\nexit 0\n");
    await script("linux/amd64/bin/generate", "#!/bin/sh\necho amd64\n");

    const refused = await polypack([
      "extension",
      "package",
      "curl",
      "--path",
      source,
      "--format",
      "layout",
      "--output",
      join(work, "refused"),
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^error\[BUILDPACK_TARGET_BINARIES_MISSING\]: target linux\/arm64 has no bin\/generate/m,
    );
    assert.ok(!existsSync(join(work, "refused")), "nothing written");

    await script("linux/arm64/bin/generate", "#!/bin/sh\necho arm64\n");
    const layout = join(work, "layout");
    const outcome = await polypackOk([
      "--json",
      "extension",
      "package",
      "curl",
      "--label",
      "org.opencontainers.image.source=https://example.com/curl",
      "--path",
      source,
      "--format",
      "layout",
      "--output",
      layout,
    ]);
    const report = JSON.parse(outcome.stdout) as { targets: { target: string }[] };
    assert.deepEqual(
      report.targets.map((t) => t.target),
      ["linux/amd64", "linux/arm64"],
    );
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    const index = await readJSON<ImageIndex>(blob(layout, top.manifests[0]!.digest));
    for (const child of index.manifests) {
      const arch = child.platform!.architecture;
      const manifest = await readJSON<ImageManifest>(blob(layout, child.digest));
      const config = await readJSON<ImageConfig>(blob(layout, manifest.config.digest));
      assert.equal(config.architecture, arch);
      const layers = JSON.parse(config.config.Labels["io.buildpacks.extension.layers"]!) as Record<
        string,
        Record<string, { api: string; targets: unknown[]; layerDiffID: string; name: string }>
      >;
      // pack records an extension's targets (all it declares) like a buildpack's.
      assert.deepEqual(layers, {
        "test/curl": {
          "1.0.0": {
            api: "0.10",
            targets: [
              { os: "linux", arch: "amd64" },
              { os: "linux", arch: "arm64" },
            ],
            layerDiffID: config.rootfs.diff_ids[0]!,
            name: "Curl <installer> & more",
          },
        },
      });
      assert.match(
        config.config.Labels["io.buildpacks.extension.layers"]!,
        /Curl \\u003cinstaller\\u003e \\u0026 more/,
      );
      assert.equal(config.config.Labels["io.buildpacks.buildpack.layers"], undefined);
      assert.equal(config.config.Labels["org.opencontainers.image.source"], "https://example.com/curl");
      const listing = await run("tar", ["-tzf", blob(layout, manifest.layers[0]!.digest)]);
      assert.ok(listing.includes("/cnb/extensions/test_curl/1.0.0/bin/generate"), listing);
      const bundle = join(work, `bundle-${arch}`);
      const named = join(work, `named-${arch}`);
      await run("cp", ["-r", layout, named]);
      await writeFile(
        join(named, "index.json"),
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ ...child, annotations: { "org.opencontainers.image.ref.name": arch } }],
        }),
      );
      await run("umoci", ["unpack", "--rootless", "--image", `${named}:${arch}`, bundle]);
      const generate = join(bundle, "rootfs", "cnb", "extensions", "test_curl", "1.0.0", "bin", "generate");
      assert.equal(await readFile(generate, "utf8"), `#!/bin/sh\necho ${arch}\n`);
    }
  });

  test("the wrong kind of source is refused with PACKAGE_KIND_MISMATCH", async () => {
    const work = await tempDir("polypack-extension-kind-");
    const bp = await copyExample(join(work, "bp"));
    const outcome = await polypack(["extension", "package", "x", "--path", bp, "--dry-run"]);
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /^error\[PACKAGE_KIND_MISMATCH\]: .*buildpack\.toml describes a buildpack, not an image extension/m,
    );
  });
});

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
