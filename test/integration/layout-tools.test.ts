import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, symlink, link, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { collectDirectory } from "../../src/layer/collect.js";
import { putLayer } from "../../src/layer/put-layer.js";
import { CnbTarget } from "../../src/layout/cnb-target.js";
import { LayoutSource } from "../../src/layout/layout-source.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { descriptorFor } from "../../src/oci/descriptor.js";
import { buildImageManifest, encodeJSON, parseManifest } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { writeRandomImage, writeRandomIndex } from "../support/images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7"];

/** The os/arch[/variant] of each entry of an index, as skopeo wrote or read it. */
function platformsOf(indexJson: string): string[] {
  const index = JSON.parse(indexJson) as {
    manifests: { platform: { os: string; architecture: string; variant?: string } }[];
  };
  return index.manifests.map((m) =>
    [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/"),
  );
}

test("skopeo inspects a polypack layout: parsed and raw", async () => {
  const dir = await tempDir();
  const image = await writeRandomImage(await LayoutTarget.create(dir), {
    platform: "linux/arm64",
    layerSizes: [1000, 2000],
    tag: "single",
    labels: { "io.buildpacks.test": "yes" },
  });
  const inspected = JSON.parse(await run("skopeo", ["inspect", `oci:${dir}:single`]));
  assert.equal(inspected.Architecture, "arm64");
  assert.equal(inspected.Os, "linux");
  assert.deepEqual(
    inspected.Layers,
    image.manifest.layers.map((layer) => layer.digest),
  );
  assert.deepEqual(inspected.Labels, { "io.buildpacks.test": "yes" });
  const raw = await run("skopeo", ["inspect", "--raw", `oci:${dir}:single`]);
  assert.equal(raw, encodeJSON(image.manifest).toString(), "byte for byte the manifest polypack stored");
});

test("skopeo copies a multi-arch index out of a polypack layout, and polypack reads skopeo's copy", async () => {
  const dir = await tempDir();
  const other = await tempDir();
  const written = await writeRandomIndex(await LayoutTarget.create(dir), {
    platforms: PLATFORMS,
    layerSizes: [700],
    tag: "multi",
  });
  await run("skopeo", ["copy", "--all", `oci:${dir}:multi`, `oci:${other}:copied`]);
  const raw = await run("skopeo", ["inspect", "--raw", `oci:${other}:copied`]);
  assert.deepEqual(platformsOf(raw), PLATFORMS);
  const source = await LayoutSource.open(other, "copied");
  const root = await source.resolve();
  assert.equal(root.digest, written.descriptor.digest, "skopeo kept the index unchanged");
  const index = parseManifest(await source.fetchManifest(root), root.mediaType, other);
  assert.equal(index.kind, "index");
});

test("skopeo copies every platform out of a polypack multi-arch .cnb", async () => {
  const dir = await tempDir();
  const file = join(dir, "multi.cnb");
  const target = await CnbTarget.create(file);
  const written = await writeRandomIndex(target, {
    platforms: PLATFORMS,
    layerSizes: [900, 300],
    tag: "latest",
  });
  await target.commit();
  const raw = await run("skopeo", ["inspect", "--raw", `oci-archive:${file}:latest`]);
  assert.equal(raw, encodeJSON(written.index).toString());
  const out = join(dir, "out");
  await run("skopeo", ["copy", "--all", `oci-archive:${file}:latest`, `oci:${out}:latest`]);
  assert.deepEqual(platformsOf(await run("skopeo", ["inspect", "--raw", `oci:${out}:latest`])), PLATFORMS);
  for (const image of written.images) {
    const platform = image.platform;
    const inspected = JSON.parse(
      await run("skopeo", [
        "--override-arch",
        platform.architecture,
        ...(platform.variant ? ["--override-variant", platform.variant] : []),
        "inspect",
        `oci:${out}:latest`,
      ]),
    );
    assert.equal(inspected.Architecture, platform.architecture);
    assert.deepEqual(
      inspected.Layers,
      image.manifest.layers.map((layer) => layer.digest),
    );
  }
});

test("GNU tar lists a polypack .cnb like pack's: absolute names, 0755, root, 1980", async () => {
  const dir = await tempDir();
  const file = join(dir, "single.cnb");
  const target = await CnbTarget.create(file);
  await writeRandomImage(target, { mediaTypes: "docker", tag: "latest" });
  await target.commit();
  const lines = (await run("tar", ["--numeric-owner", "-tvf", file])).trim().split("\n");
  assert.equal(lines.length, 7);
  for (const line of lines)
    assert.match(line, /^[d-]rwxr-xr-x 0\/0 +\d+ 1980-01-01 00:00 \/(blobs|index\.json|oci-layout)/);
  assert.match(lines[0]!, / \/blobs$/);
  assert.match(lines.at(-1)!, / \/oci-layout$/);
  assert.equal(JSON.parse(await run("skopeo", ["inspect", `oci-archive:${file}`])).Os, "linux");
});

test("umoci unpacks a polypack image with the files, modes and links of the source folder", async () => {
  const src = await tempDir();
  await mkdir(join(src, "bin"));
  await writeFile(join(src, "bin", "run"), "#!/bin/sh\necho hi\n", { mode: 0o750 });
  await symlink("run", join(src, "bin", "build"));
  await writeFile(join(src, "buildpack.toml"), 'api = "0.10"\n', { mode: 0o600 });
  await link(join(src, "buildpack.toml"), join(src, "copy.toml"));

  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const entries = [
    { path: "/cnb/buildpacks/x", type: "directory" as const },
    ...(await collectDirectory(src, { prefix: "/cnb/buildpacks/x/1.0" })),
  ];
  const layer = await putLayer(target, entries, { absoluteNames: true });
  const config = encodeJSON({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [layer.diffID] },
  });
  const configDescriptor = descriptorFor(MediaType.ociConfig, config);
  await target.putBlob(configDescriptor, () => Promise.resolve(Readable.from([config])));
  const manifest = encodeJSON(buildImageManifest(configDescriptor, [layer.descriptor]));
  const manifestDescriptor = descriptorFor(MediaType.ociManifest, manifest);
  await target.putManifest(manifestDescriptor, manifest);
  await target.tag(manifestDescriptor, ["bp"]);

  const bundle = join(await tempDir(), "bundle");
  await run("umoci", ["unpack", "--rootless", "--image", `${dir}:bp`, bundle]);
  const root = join(bundle, "rootfs", "cnb", "buildpacks", "x", "1.0");
  assert.equal(await readFile(join(root, "bin", "run"), "utf8"), "#!/bin/sh\necho hi\n");
  assert.equal((await lstat(join(root, "bin", "run"))).mode & 0o777, 0o755);
  assert.equal((await lstat(join(root, "buildpack.toml"))).mode & 0o777, 0o644);
  assert.equal(await readlink(join(root, "bin", "build")), "run");
  const [toml, copy] = [await lstat(join(root, "buildpack.toml")), await lstat(join(root, "copy.toml"))];
  assert.equal(copy.ino, toml.ino, "the hard link is a hard link again");
});
