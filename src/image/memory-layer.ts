import { Writable } from "node:stream";
import type { LayerEntry } from "../layer/entry.js";
import { writeLayer, type LayerOptions, type WrittenLayer } from "../layer/write-layer.js";
import { bytesBlob, type Layer } from "./blob.js";

/** Writes a small layer into memory: what writeLayer reports, and the blob's bytes. */
export async function layerInMemory(
  entries: Iterable<LayerEntry>,
  options: LayerOptions = {},
): Promise<{ written: WrittenLayer; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const written = await writeLayer(
    entries,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
    options,
  );
  return { written, bytes: Buffer.concat(chunks) };
}

/**
 * A small layer written into memory (a few files, such as the CNB user's /etc/passwd): the same
 * bytes writeLayer always gives for these entries, so the same entries give the same digest.
 */
export async function memoryLayer(entries: Iterable<LayerEntry>, options: LayerOptions = {}): Promise<Layer> {
  const { written, bytes } = await layerInMemory(entries, options);
  return { ...bytesBlob(written.descriptor, bytes), diffID: written.diffID };
}
