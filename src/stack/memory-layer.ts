import { Writable } from "node:stream";
import { bytesBlob, type Layer } from "../image/blob.js";
import type { LayerEntry } from "../layer/entry.js";
import { writeLayer, type LayerOptions } from "../layer/write-layer.js";

/**
 * A small layer written into memory (a few files, such as the CNB user's /etc/passwd): the same
 * bytes writeLayer always gives for these entries, so the same entries give the same digest.
 */
export async function memoryLayer(entries: LayerEntry[], options: LayerOptions = {}): Promise<Layer> {
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
  return { ...bytesBlob(written.descriptor, Buffer.concat(chunks)), diffID: written.diffID };
}
