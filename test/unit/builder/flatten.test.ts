/**
 * builder create --flatten's grouping: a group's modules go into one layer in builder.toml's order
 * (as pack adds them), flattened layers come before the other modules' layers, and the label
 * entries of a group point at its layer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { flattenBuilderModules, type BuilderModule } from "../../../src/builder/flatten.js";
import { LayerSpool } from "../../../src/image/spool.js";
import { memoryLayer } from "../../../src/image/memory-layer.js";
import { readLayer } from "../../../src/layer/read-layer.js";

async function module(id: string, version: string, added: number): Promise<BuilderModule> {
  const root = `cnb/buildpacks/${id}`;
  const layer = await memoryLayer(
    [
      { path: root, type: "directory" },
      { path: `${root}/${version}`, type: "directory" },
      { path: `${root}/${version}/buildpack.toml`, type: "file", content: id },
    ],
    { absoluteNames: true },
  );
  return { id, version, layer, info: { api: "0.10", layerDiffID: layer.diffID }, added };
}

test("a group becomes one layer in builder.toml's order, before the other modules' layers", async () => {
  const spool = await LayerSpool.create();
  try {
    // Sorted by id@version as the builder keeps them; builder.toml brought c in first.
    const modules = [await module("a", "1", 2), await module("b", "1", 1), await module("c", "1", 0)];
    const result = await flattenBuilderModules(modules, [["a@1", "c@1"]], spool, "buildpack");
    assert.equal(result.layers.length, 2);
    const [flat, own] = result.layers;
    assert.equal(own!.diffID, modules[1]!.layer.diffID);
    const names: string[] = [];
    for await (const entry of readLayer(await flat!.open())) names.push(entry.name);
    assert.deepEqual(names, [
      "/cnb/buildpacks/c",
      "/cnb/buildpacks/c/1",
      "/cnb/buildpacks/c/1/buildpack.toml",
      "/cnb/buildpacks/a",
      "/cnb/buildpacks/a/1",
      "/cnb/buildpacks/a/1/buildpack.toml",
    ]);
    assert.deepEqual(
      result.modules.map((m) => [m.id, m.info.layerDiffID]),
      [
        ["a", flat!.diffID],
        ["b", own!.diffID],
        ["c", flat!.diffID],
      ],
    );
  } finally {
    await spool.remove();
  }
});

test("without groups each layer goes in once, also one that a flattened buildpackage's modules share", async () => {
  const spool = await LayerSpool.create();
  try {
    const a = await module("a", "1", 0);
    const b = {
      ...(await module("b", "1", 1)),
      layer: a.layer,
      info: { api: "0.10", layerDiffID: a.layer.diffID },
    };
    const c = await module("c", "1", 2);
    const result = await flattenBuilderModules([a, b, c], [], spool, "buildpack");
    assert.deepEqual(
      result.layers.map((l) => l.diffID),
      [a.layer.diffID, c.layer.diffID],
    );
  } finally {
    await spool.remove();
  }
});
