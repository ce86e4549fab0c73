/**
 * `buildpack package --flatten` and `--flatten-exclude`, as pack writes them: a composite's
 * modules in one layer whose tar is what pack's NToLayerTar makes of the modules' own layers (the
 * Go oracle runs that code path over pack's own layer tars), every flattened module's label entry
 * carrying that layer's diffID, and an excluded module keeping its own layer.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { packFlattenTar, packLayerTar } from "../support/go-oracles.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { buildpackToml, script, targetsToml, writeTree } from "../unit/package/helpers.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

interface Packaged {
  layers: ImageManifest["layers"];
  diffIDs: string[];
  label: Record<string, Record<string, { layerDiffID: string }>>;
}

async function readPackage(layout: string): Promise<Packaged> {
  const top = await readJSON<ImageIndex>(join(layout, "index.json"));
  const blob = (digest: string): string => join(layout, "blobs/sha256", digest.slice(7));
  const manifest = await readJSON<ImageManifest>(blob(top.manifests[0]!.digest));
  const config = await readJSON<{
    config: { Labels: Record<string, string> };
    rootfs: { diff_ids: string[] };
  }>(blob(manifest.config.digest));
  return {
    layers: manifest.layers,
    diffIDs: config.rootfs.diff_ids,
    label: JSON.parse(config.config.Labels["io.buildpacks.buildpack.layers"]!) as Packaged["label"],
  };
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("buildpack package --flatten", () => {
  let work: string;
  let config: string;
  // pack's own layer tar of each module, written by the Go oracle.
  const packTars: Record<string, string> = {};

  before(async () => {
    work = await tempDir("polypack-flatten-");
    await writeTree(
      {
        "buildpack.toml": buildpackToml(targetsToml("linux/amd64"), "example/a", "1.0.0"),
        "bin/build": script("echo a"),
        "bin/detect": script("echo a"),
      },
      join(work, "a"),
    );
    await writeTree(
      {
        "buildpack.toml": buildpackToml(targetsToml("linux/amd64"), "example/b", "2.0.0"),
        "bin/build": script("echo b"),
        "bin/detect": script("echo b"),
        "lib/helper.sh": "echo helper\n",
        // A PAX header (non-ASCII) and a ustar prefix (long name): copied as pack's Go writer writes them.
        "lib/hélper.sh": "echo accent\n",
        [`lib/${"d".repeat(70)}/${"f".repeat(60)}.txt`]: "long\n",
      },
      join(work, "b"),
    );
    await writeTree(
      {
        "buildpack.toml": buildpackToml(
          '[[order]]\n  [[order.group]]\n    id = "example/a"\n    version = "1.0.0"\n' +
            '  [[order.group]]\n    id = "example/b"\n    version = "2.0.0"\n',
          "example/composite",
          "3.0.0",
        ),
      },
      join(work, "composite"),
    );
    // b comes in as a .cnb, so flattening reads an image's layer as well as a folder's.
    await polypackOk([
      "buildpack",
      "package",
      "b",
      "--path",
      join(work, "b"),
      "--format",
      "file",
      "--output",
      join(work, "b.cnb"),
    ]);
    config = join(work, "package.toml");
    await writeFile(
      config,
      '[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "a"\n\n[[dependencies]]\nuri = "b.cnb"\n',
    );
    for (const [id, dir, version] of [
      ["example/a", "a", "1.0.0"],
      ["example/b", "b", "2.0.0"],
      ["example/composite", "composite", "3.0.0"],
    ] as const) {
      packTars[id] = join(work, `${dir}.pack.tar`);
      await writeFile(packTars[id], await packLayerTar(join(work, dir), "/cnb/buildpacks", id, version));
    }
  });

  async function packageFlat(extra: string[]): Promise<{ layout: string; stderr: string }> {
    const layout = join(await tempDir("polypack-flatten-out-"), "out");
    const outcome = await polypackOk([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "--format",
      "layout",
      "--output",
      layout,
      ...extra,
    ]);
    return { layout, stderr: outcome.stderr };
  }

  test("puts every module into one layer whose diffID is pack's, with every label entry pointing at it", async () => {
    const plain = await readPackage((await packageFlat([])).layout);
    assert.equal(plain.layers.length, 3);

    const { layout, stderr } = await packageFlat(["--flatten"]);
    assert.match(stderr, /warning: flattening a buildpack package can break the distribution specification/);
    const flat = await readPackage(layout);
    assert.equal(flat.layers.length, 1);
    const expected = sha256(
      await packFlattenTar(
        ["example/a", "example/b", "example/composite"].map((id) => ({ id, tar: packTars[id]! })),
      ),
    );
    assert.deepEqual(flat.diffIDs, [expected]);
    assert.deepEqual(
      Object.entries(flat.label).flatMap(([id, versions]) =>
        Object.entries(versions).map(([version, info]) => [id, version, info.layerDiffID]),
      ),
      [
        ["example/a", "1.0.0", expected],
        ["example/b", "2.0.0", expected],
        ["example/composite", "3.0.0", expected],
      ],
    );

    // umoci unpacks it (checking every blob), and every module's files are there.
    const bundle = join(await tempDir("polypack-flatten-bundle-"), "bundle");
    const ref = (await readJSON<ImageIndex>(join(layout, "index.json"))).manifests[0]!.annotations?.[
      "org.opencontainers.image.ref.name"
    ];
    await run("umoci", ["unpack", "--rootless", "--image", `${layout}${ref ? `:${ref}` : ""}`, bundle]);
    for (const file of [
      "example_a/1.0.0/bin/build",
      "example_b/2.0.0/lib/helper.sh",
      "example_composite/3.0.0/buildpack.toml",
    ]) {
      assert.ok(existsSync(join(bundle, "rootfs/cnb/buildpacks", file)), file);
    }
  });

  test("--flatten-exclude keeps the named module in its own layer, and the rest flattened", async () => {
    const { layout } = await packageFlat(["--flatten", "--flatten-exclude", "example/b@2.0.0"]);
    const flat = await readPackage(layout);
    assert.equal(flat.layers.length, 2);
    const own = sha256(await packLayerTar(join(work, "b"), "/cnb/buildpacks", "example/b", "2.0.0"));
    const rest = sha256(
      await packFlattenTar(["example/a", "example/composite"].map((id) => ({ id, tar: packTars[id]! }))),
    );
    assert.deepEqual(flat.diffIDs.toSorted(), [own, rest].toSorted());
    assert.equal(flat.label["example/b"]!["2.0.0"]!.layerDiffID, own);
    assert.equal(flat.label["example/a"]!["1.0.0"]!.layerDiffID, rest);
    assert.equal(flat.label["example/composite"]!["3.0.0"]!.layerDiffID, rest);
  });

  test("an exclusion naming no module is a warning, and --flatten-exclude without --flatten a usage error", async () => {
    const { stderr } = await packageFlat(["--flatten", "-e", "example/none@1.0.0"]);
    assert.match(stderr, /--flatten-exclude example\/none@1\.0\.0 names no module of the package/);
    const refused = await polypack([
      "buildpack",
      "package",
      "c",
      "--config",
      config,
      "-e",
      "example/b@2.0.0",
      "--output",
      join(work, "never"),
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /error\[FLAGS_CONFLICT\]: --flatten-exclude only applies with --flatten/);
    assert.ok(!existsSync(join(work, "never")));
  });
});
