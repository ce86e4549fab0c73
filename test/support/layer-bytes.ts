import { layerInMemory } from "../../src/image/memory-layer.js";
import type { LayerEntry } from "../../src/layer/entry.js";
import type { LayerOptions, WrittenLayer } from "../../src/layer/write-layer.js";

/** Writes a layer into memory: what writeLayer reports, and the blob's bytes. */
export async function layerBytes(
  entries: LayerEntry[],
  options: LayerOptions = {},
): Promise<{ layer: WrittenLayer; blob: Buffer }> {
  const { written, bytes } = await layerInMemory(entries, options);
  return { layer: written, blob: bytes };
}
