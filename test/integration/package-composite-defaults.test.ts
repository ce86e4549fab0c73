/**
 * A composite without [[targets]]: pack packages it for linux/amd64 alone; polypack packages it
 * for the platforms all its dependencies share and says so, and its dry run prints the metadata
 * label the real run writes.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { tempDir } from "../support/tmp.js";
import { writeTree, script, buildpackToml, targetsToml } from "../unit/package/helpers.js";
import { polypackOk, readJSON } from "./buildpack-package-support.js";

async function compositeWork(): Promise<string> {
  const work = await tempDir("polypack-composite-defaults-");
  const bins = (arch: string) => ({
    [`linux/${arch}/bin/build`]: script(`echo ${arch}`),
    [`linux/${arch}/bin/detect`]: script(`echo ${arch}`),
  });
  await writeTree(
    {
      "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64"), "example/a", "1.0.0"),
      ...bins("amd64"),
      ...bins("arm64"),
    },
    join(work, "a"),
  );
  await writeTree(
    {
      "buildpack.toml": buildpackToml(
        targetsToml("linux/amd64", "linux/arm64", "linux/ppc64le"),
        "example/b",
        "2.0.0",
      ),
      "bin/build": script("echo b"),
      "bin/detect": script("echo b"),
    },
    join(work, "b"),
  );
  await writeTree(
    {
      "buildpack.toml": buildpackToml(
        `[[order]]\n  [[order.group]]\n    id = "example/a"\n    version = "1.0.0"\n  [[order.group]]\n    id = "example/b"\n    version = "2.0.0"\n`,
        "example/composite",
        "3.0.0",
      ),
    },
    join(work, "composite"),
  );
  await writeFile(
    join(work, "package.toml"),
    `[buildpack]\nuri = "composite"\n\n[[dependencies]]\nuri = "a"\n\n[[dependencies]]\nuri = "b"\n`,
  );
  return work;
}

test("a composite without targets gets the platforms its dependencies share, and the dry run's label is the real one", async () => {
  const work = await compositeWork();
  const config = join(work, "package.toml");
  const dry = await polypackOk(["--json", "buildpack", "package", "c", "--config", config, "--dry-run"]);
  const plan = JSON.parse(dry.stdout) as {
    targets: { key: string }[];
    warnings: string[];
    metadataLabel: string;
  };
  assert.deepEqual(
    plan.targets.map((t) => t.key),
    ["linux/amd64", "linux/arm64"],
  );
  assert.match(plan.warnings.join("\n"), /the platforms all its dependencies share/);
  assert.ok(plan.metadataLabel.endsWith('"stacks":[{"id":"*"}]}'), plan.metadataLabel);

  const layout = join(work, "out");
  const run = await polypackOk(["buildpack", "package", "c", "--config", config, "--output", layout]);
  assert.match(run.stderr, /packaging the composite for linux\/amd64, linux\/arm64/);
  const top = await readJSON<ImageIndex>(join(layout, "index.json"));
  const index = await readJSON<ImageIndex>(join(layout, "blobs/sha256", top.manifests[0]!.digest.slice(7)));
  assert.deepEqual(
    index.manifests.map((m) => m.platform?.architecture),
    ["amd64", "arm64"],
  );
  for (const entry of index.manifests) {
    const manifest = await readJSON<ImageManifest>(join(layout, "blobs/sha256", entry.digest.slice(7)));
    const image = await readJSON<{ config: { Labels: Record<string, string> } }>(
      join(layout, "blobs/sha256", manifest.config.digest.slice(7)),
    );
    assert.equal(image.config.Labels["io.buildpacks.buildpackage.metadata"], plan.metadataLabel);
  }
});
