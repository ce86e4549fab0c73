import assert from "node:assert/strict";
import { createGunzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Writable } from "node:stream";
import { test } from "node:test";
import { checkDescriptor, type BuildpackDescriptor } from "../../../src/buildpack/index.js";
import { readEntryContent, readLayer } from "../../../src/layer/read-layer.js";
import { CnbSource } from "../../../src/layout/cnb-source.js";
import { Digester } from "../../../src/oci/digest.js";
import type { Descriptor } from "../../../src/oci/descriptor.js";
import { readArtifact } from "../../../src/image/image.js";
import {
  addModuleLayer,
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  buildpackageMetadataLabel,
  buildpackLayersLabel,
  labelStacks,
  moduleLayerInfo,
  packageStacks,
  type ModuleLayers,
} from "../../../src/buildpack/labels.js";
import { parse } from "smol-toml";
import { packLabels } from "../../support/go-oracles.js";
import { resolvedStacks } from "../../../src/buildpack/stacks.js";
import { buildpackToml, fixture } from "./helpers.js";

interface FixtureModule {
  descriptor: BuildpackDescriptor;
  diffID: string;
}

/**
 * Reads pack's hello-universe.cnb independently of the labels: each layer's diffID is hashed from
 * the decompressed blob, and its buildpack.toml read from the tar. `withoutName` drops the `name`
 * key, because the pack release that wrote the fixture did not record names in labels yet.
 */
async function readFixture(withoutName: boolean) {
  const source = await CnbSource.open(fixture("pack/hello-universe.cnb"));
  const image = await readArtifact(source);
  assert.equal(image.kind, "image");
  if (image.kind !== "image") throw new Error("not an image");
  const modules: FixtureModule[] = [];
  for (const layer of (await image.manifest()).layers) {
    const diffID = await layerDiffID(source, layer);
    for await (const entry of readLayer(await source.openBlob(layer))) {
      if (!entry.path.endsWith("/buildpack.toml")) continue;
      let text = (await readEntryContent(entry, 64 * 1024)).toString("utf8");
      if (withoutName) text = text.replace(/^name = .*$/m, "");
      const check = checkDescriptor(text, "buildpack", { file: entry.path });
      // The fixture uses Buildpack API 0.2, which pack (and so polypack) packages with a warning.
      assert.deepEqual(check.problems, []);
      assert.match(check.descriptor!.warnings!.join("\n"), /Buildpack API 0\.2 is deprecated/);
      modules.push({ descriptor: check.descriptor!, diffID });
    }
  }
  const labels = (await image.config()).config?.Labels ?? {};
  return { modules, labels };
}

async function layerDiffID(source: CnbSource, layer: Descriptor): Promise<string> {
  const digester = new Digester();
  await pipeline(
    await source.openBlob(layer),
    createGunzip(),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        digester.update(chunk);
        callback();
      },
    }),
  );
  return digester.digest().toString();
}

function byId(modules: FixtureModule[], id: string): FixtureModule {
  const found = modules.find((m) => m.descriptor.info.id === id);
  assert.ok(found, `fixture has ${id}`);
  return found;
}

test("the layers label equals pack's byte for byte for the equivalent buildpacks", async () => {
  const { modules, labels } = await readFixture(true);
  assert.equal(modules.length, 3);
  const layers: ModuleLayers = {};
  for (const { descriptor, diffID } of modules) {
    addModuleLayer(layers, descriptor.info.id, descriptor.info.version, moduleLayerInfo(descriptor, diffID));
  }
  assert.equal(buildpackLayersLabel(layers), labels[BUILDPACK_LAYERS_LABEL]);
});

test("the buildpackage metadata label equals pack's, stacks merged from the composite's children", async () => {
  const { modules, labels } = await readFixture(true);
  const universe = byId(modules, "io.buildpacks.samples.hello-universe").descriptor;
  const children = ["io.buildpacks.samples.hello-world", "io.buildpacks.samples.hello-moon"].map((id) =>
    labelStacks(byId(modules, id).descriptor),
  );
  const stacks = resolvedStacks(labelStacks(universe), children);
  assert.equal(buildpackageMetadataLabel(universe, stacks), labels[BUILDPACKAGE_METADATA_LABEL]);
});

test("names, as today's pack records them, go after version in metadata and last in layer info", async () => {
  const named = await readFixture(false);
  const world = byId(named.modules, "io.buildpacks.samples.hello-world");
  const info = moduleLayerInfo(world.descriptor, world.diffID);
  const label = buildpackLayersLabel({ [world.descriptor.info.id]: { "0.0.1": info } });
  assert.ok(label.endsWith(`"layerDiffID":"${world.diffID}","name":"Hello World Buildpack"}}}`), label);
  const metadata = buildpackageMetadataLabel(world.descriptor, labelStacks(world.descriptor));
  assert.equal(
    metadata,
    '{"id":"io.buildpacks.samples.hello-world","name":"Hello World Buildpack","version":"0.0.1",' +
      '"stacks":[{"id":"io.buildpacks.samples.stacks.bionic"},{"id":"io.buildpacks.samples.stacks.alpine"}]}',
  );
});

test("metadata follows Go: field order, omitted empties, License's untagged Type/URI, HTML escapes", () => {
  const text = buildpackToml(
    `  name = "Tom & Jerry <b>"
  description = "a <test> & more"
  homepage = "https://example.com/?a=1&b=2"
  keywords = ["x"]
  clear-env = true
  exec-env = ["production"]

  [[buildpack.licenses]]
    type = "MIT"

[[targets]]
  os = "linux"
  arch = "arm64"
`,
  );
  const check = checkDescriptor(text, "buildpack");
  assert.deepEqual(check.problems, []);
  const descriptor = check.descriptor!;
  assert.equal(
    buildpackageMetadataLabel(descriptor, packageStacks(descriptor)),
    '{"id":"example/hello","name":"Tom \\u0026 Jerry \\u003cb\\u003e","version":"1.0.0",' +
      '"description":"a \\u003ctest\\u003e \\u0026 more","homepage":"https://example.com/?a=1\\u0026b=2",' +
      '"keywords":["x"],"exec-env":["production"],"licenses":[{"Type":"MIT","URI":""}],"clear-env":true,' +
      '"stacks":[{"id":"*"}]}',
  );
  assert.equal(
    buildpackLayersLabel({ "example/hello": { "1.0.0": moduleLayerInfo(descriptor, "sha256:abc") } }),
    '{"example/hello":{"1.0.0":{"api":"0.10","targets":[{"os":"linux","arch":"arm64"}],' +
      '"layerDiffID":"sha256:abc","homepage":"https://example.com/?a=1\\u0026b=2","name":"Tom \\u0026 Jerry \\u003cb\\u003e"}}}',
  );
});

test("the layers label sorts ids and versions as Go sorts map keys, distros and variants included", () => {
  const check = checkDescriptor(
    buildpackToml(
      `[[targets]]\n  os = "linux"\n  arch = "arm"\n  variant = "v6"\n  [[targets.distros]]\n    name = "ubuntu"\n    version = "22.04"\n`,
      "b/second",
    ),
    "buildpack",
  );
  const info = moduleLayerInfo(check.descriptor!, "sha256:1");
  const layers: ModuleLayers = {};
  addModuleLayer(layers, "b/second", "1.10.0", info);
  addModuleLayer(layers, "b/second", "1.9.0", info);
  addModuleLayer(layers, "a/first", "2.0.0", { api: "0.9", layerDiffID: "sha256:2" });
  const label = buildpackLayersLabel(layers);
  assert.ok(
    label.startsWith('{"a/first":{"2.0.0":{"api":"0.9","layerDiffID":"sha256:2"}},"b/second":{"1.10.0":'),
    label,
  );
  assert.ok(label.includes('"1.9.0":'));
  assert.ok(
    label.includes(
      '"targets":[{"os":"linux","arch":"arm","variant":"v6","distros":[{"name":"ubuntu","version":"22.04"}]}]',
    ),
    label,
  );
});

/** polypack's two labels for a module and its included buildpacks, as the package code makes them. */
function polypackLabels(top: BuildpackDescriptor, children: readonly BuildpackDescriptor[] = []) {
  const layers: ModuleLayers = {};
  for (const [i, d] of [top, ...children].entries())
    addModuleLayer(layers, d.info.id, d.info.version, moduleLayerInfo(d, `sha256:${i}`));
  const stacks =
    top.kind === "extension"
      ? null
      : resolvedStacks(
          packageStacks(top),
          children.map((c) => packageStacks(c)),
        );
  return { layers: buildpackLayersLabel(layers), metadata: buildpackageMetadataLabel(top, stacks) };
}

function descriptorOf(text: string, kind: "buildpack" | "extension" = "buildpack"): BuildpackDescriptor {
  const check = checkDescriptor(text, kind);
  assert.deepEqual(check.problems, []);
  return check.descriptor!;
}

const TARGETS_ONLY = buildpackToml(
  `  name = "Targets only"\n  homepage = "https://example.com"\n\n[[targets]]\n  os = "linux"\n  arch = "arm64"\n`,
  "example/leaf",
);

test("a buildpack with targets and no stacks: no stacks in the layers label, * in the metadata, as pack", async () => {
  const expected = await packLabels("buildpack", { descriptor: parse(TARGETS_ONLY), diffID: "sha256:0" });
  assert.deepEqual(polypackLabels(descriptorOf(TARGETS_ONLY)), expected);
  assert.ok(!expected.layers.includes("stacks"), expected.layers);
  assert.ok(expected.metadata.endsWith('"stacks":[{"id":"*"}]}'), expected.metadata);
});

test("an extension's layers label keeps its targets, as pack", async () => {
  const text = `api = "0.10"\n\n[extension]\n  id = "example/ext"\n  version = "0.1.0"\n  name = "Ext"\n\n[[targets]]\n  os = "linux"\n  arch = "amd64"\n\n[[targets]]\n  os = "linux"\n  arch = "arm"\n  variant = "v7"\n`;
  const expected = await packLabels("extension", { descriptor: parse(text), diffID: "sha256:0" });
  assert.deepEqual(polypackLabels(descriptorOf(text, "extension")), expected);
  assert.ok(expected.layers.includes('"targets":[{"os":"linux","arch":"amd64"},'), expected.layers);
});

test("a composite's order keeps exec-env and every other field pack reads from a group entry", async () => {
  const text = `api = "0.10"\n\n[buildpack]\n  id = "example/composite"\n  version = "2.0.0"\n\n[[order]]\n  [[order.group]]\n    id = "example/leaf"\n    version = "1.0.0"\n    name = "Leaf <1>"\n    exec-env = ["production", "test"]\n    keywords = ["k"]\n    clear-env = true\n    optional = true\n    [[order.group.licenses]]\n      type = "MIT"\n`;
  const expected = await packLabels("buildpack", { descriptor: parse(text), diffID: "sha256:0" }, [
    { descriptor: parse(TARGETS_ONLY), diffID: "sha256:1" },
  ]);
  assert.deepEqual(polypackLabels(descriptorOf(text), [descriptorOf(TARGETS_ONLY)]), expected);
  assert.ok(expected.layers.includes('"exec-env":["production","test"]'), expected.layers);
  assert.ok(expected.metadata.endsWith('"stacks":[{"id":"*"}]}'), expected.metadata);
});
