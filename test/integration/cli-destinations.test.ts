import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { LayoutSource } from "../../src/layout/layout-source.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { descriptorFor, REF_NAME_ANNOTATION } from "../../src/oci/descriptor.js";
import { buildImageManifest } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { polypack } from "../support/cli.js";
import { writeRandomImage, type RandomImage } from "../support/images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";

const WRITERS = 8;
let source: string;
const images: RandomImage[] = [];

before(async () => {
  source = await tempDir();
  const target = await LayoutTarget.create(source);
  for (let i = 0; i < WRITERS; i++) {
    const platform = i % 2 === 0 ? "linux/amd64" : "linux/arm64";
    images.push(
      await writeRandomImage(target, { platform, layerSizes: [2000], seed: `w${i}`, tag: `img-${i}` }),
    );
  }
});

async function refsOf(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  return index.manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION] ?? "").sort();
}

test("8 polypack processes copying into one layout at once lose no tag", async () => {
  // Two rounds into fresh layouts: a lost update shows up in most single rounds already.
  for (let round = 0; round < 2; round++) {
    const destination = join(await tempDir(), "shared");
    const outcomes = await Promise.all(
      images.map((_, i) => polypack(["copy", `oci:${source}:img-${i}`, `oci:${destination}:tag-${i}`])),
    );
    for (const outcome of outcomes) assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(
      await refsOf(destination),
      images.map((_, i) => `tag-${i}`).sort(),
      `round ${round}: every writer's tag is in index.json`,
    );
  }
});

test("manifest create into a .cnb or a layout without a ref names the index latest, as skopeo needs", async () => {
  const dir = await tempDir();
  const file = join(dir, "joined.cnb");
  const created = await polypack(["manifest", "create", file, `oci:${source}:img-0`, `oci:${source}:img-1`]);
  assert.equal(created.code, 0, created.stderr);
  const raw = JSON.parse(await run("skopeo", ["inspect", "--raw", `oci-archive:${file}:latest`])) as {
    manifests: { digest: string }[];
  };
  assert.deepEqual(
    raw.manifests.map((m) => m.digest),
    [images[0]!.descriptor.digest, images[1]!.descriptor.digest],
  );

  const layout = join(dir, "joined");
  const intoLayout = await polypack(["manifest", "create", `oci:${layout}`, `oci:${source}:img-0`]);
  assert.equal(intoLayout.code, 0, intoLayout.stderr);
  assert.deepEqual(await refsOf(layout), ["latest"]);
  await run("skopeo", ["inspect", "--raw", `oci:${layout}:latest`]);

  const copied = join(dir, "copied.cnb");
  assert.equal((await polypack(["copy", `oci:${source}:img-2`, copied])).code, 0);
  assert.equal(
    JSON.parse(await run("skopeo", ["inspect", `oci-archive:${copied}:latest`])).Architecture,
    "amd64",
  );
});

test("manifest inspect --raw prints the stored bytes, whose sha256 is the digest", async () => {
  const dir = await tempDir();
  const target = await LayoutTarget.create(dir);
  const image = images[3]!;
  const from = await LayoutSource.open(source, "img-3");
  await target.putBlob(image.manifest.config, () => from.openBlob(image.manifest.config));
  // Indented, as some tools write manifests: re-serialising it would change its digest.
  const bytes = Buffer.from(
    JSON.stringify(buildImageManifest(image.manifest.config, image.manifest.layers), null, 3),
  );
  const descriptor = descriptorFor(MediaType.ociManifest, bytes);
  await target.putManifest(descriptor, bytes);
  await target.tag(descriptor, ["pretty"]);
  const result = await polypack(["manifest", "inspect", "--raw", `oci:${dir}:pretty`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(`sha256:${createHash("sha256").update(result.stdout).digest("hex")}`, descriptor.digest);
  assert.equal(result.stdout, bytes.toString());
});
