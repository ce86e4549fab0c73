/**
 * flattenLayers on its own: a layer that does not uncompress to the diffID its image records never
 * makes it into a flattened layer, and two versions of one buildpack share one id folder entry.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { flattenLayers } from "../../../src/package/flatten.js";
import { LayerSpool } from "../../../src/image/spool.js";
import { memoryLayer } from "../../../src/image/memory-layer.js";
import { readLayer } from "../../../src/layer/read-layer.js";
import { isPolypackError } from "../../../src/errors/index.js";
import type { LayerEntry } from "../../../src/layer/entry.js";

function moduleEntries(id: string, version: string, text: string): LayerEntry[] {
  const root = `cnb/buildpacks/${id}`;
  return [
    { path: root, type: "directory" },
    { path: `${root}/${version}`, type: "directory" },
    { path: `${root}/${version}/buildpack.toml`, type: "file", content: text },
  ];
}

async function namesOf(layer: { open(): Promise<AsyncIterable<Uint8Array>> }): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of readLayer(await layer.open())) names.push(entry.name);
  return names;
}

describe("flattenLayers", () => {
  test("two versions of one id: the id folder is written once, as pack's NToLayerTar skips it", async () => {
    const spool = await LayerSpool.create();
    try {
      const one = await memoryLayer(moduleEntries("x", "1.0.0", "one"), { absoluteNames: true });
      const two = await memoryLayer(moduleEntries("x", "2.0.0", "two"), { absoluteNames: true });
      const flat = await flattenLayers(
        [one, two],
        {
          x: {
            "1.0.0": { api: "0.10", layerDiffID: one.diffID },
            "2.0.0": { api: "0.10", layerDiffID: two.diffID },
          },
        },
        spool,
      );
      assert.equal(flat.layers.length, 1);
      assert.deepEqual(await namesOf(flat.layers[0]!), [
        "/cnb/buildpacks/x",
        "/cnb/buildpacks/x/1.0.0",
        "/cnb/buildpacks/x/1.0.0/buildpack.toml",
        "/cnb/buildpacks/x/2.0.0",
        "/cnb/buildpacks/x/2.0.0/buildpack.toml",
      ]);
      assert.equal(flat.moduleLayers["x"]!["2.0.0"]!.layerDiffID, flat.layers[0]!.diffID);
    } finally {
      await spool.remove();
    }
  });

  test("a layer whose tar is not its recorded diffID fails with DIGEST_MISMATCH", async () => {
    const spool = await LayerSpool.create();
    try {
      const one = await memoryLayer(moduleEntries("x", "1.0.0", "one"), { absoluteNames: true });
      const two = await memoryLayer(moduleEntries("y", "1.0.0", "two"), { absoluteNames: true });
      const lying = { ...two, diffID: one.diffID.replace(/.$/, (c) => (c === "0" ? "1" : "0")) };
      await assert.rejects(
        flattenLayers(
          [one, lying],
          {
            x: { "1.0.0": { api: "0.10", layerDiffID: one.diffID } },
            y: { "1.0.0": { api: "0.10", layerDiffID: lying.diffID } },
          },
          spool,
        ),
        (error) => isPolypackError(error, "DIGEST_MISMATCH"),
      );
    } finally {
      await spool.remove();
    }
  });
});
