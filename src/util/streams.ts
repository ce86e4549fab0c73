import { PolypackError } from "../errors/index.js";

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

/**
 * Gives a stream an `'error'` listener of its own, so that a failure while nobody reads it (its
 * consumer gave up after another failure, or has not attached yet) cannot end the process as an
 * unhandled error event. Whoever reads it still gets the error: pipeline and async iteration look
 * at the stream's own error state, not at who else listens.
 */
export function guardStream<T extends NodeJS.EventEmitter>(stream: T): T {
  stream.on("error", ignore);
  return stream;
}

function ignore(): void {
  // The failure reaches the reader through the stream itself; see guardStream.
}
