import { Writable } from "node:stream";
import type { LayerEntry } from "../../src/layer/entry.js";
import { writeLayer, type LayerOptions, type WrittenLayer } from "../../src/layer/write-layer.js";

/** Writes a layer into memory: what writeLayer reports, and the blob's bytes. */
export async function layerBytes(
  entries: LayerEntry[],
  options: LayerOptions = {},
): Promise<{ layer: WrittenLayer; blob: Buffer }> {
  const chunks: Buffer[] = [];
  const layer = await writeLayer(
    entries,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
    options,
  );
  return { layer, blob: Buffer.concat(chunks) };
}
