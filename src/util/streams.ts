import type { Readable } from "node:stream";
import { PolypackError } from "../errors.js";

/** Reads a small stream whole, failing with SIZE_EXCEEDED past `maxBytes`. */
export async function readAll(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new PolypackError("SIZE_EXCEEDED", `content is larger than the ${maxBytes}-byte cap`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
