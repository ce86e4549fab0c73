import { PolypackError } from "../errors.js";

/**
 * Reads a small stream whole, failing with SIZE_EXCEEDED past `maxBytes`. Leaving the loop early
 * ends the stream (for await closes it), so nothing more is read.
 */
export async function readAll(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new PolypackError("SIZE_EXCEEDED", `content is larger than the ${maxBytes}-byte cap`);
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, size);
}
