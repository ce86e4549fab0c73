import { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";

/** A stream to read whole, or a function that opens it (called only once the declared size passed). */
export type CappedSource =
  AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>);

/** Options of `readCapped`. */
export interface ReadCappedOptions {
  /**
   * The size the source claims (a Content-Length, a file's size, a descriptor's size): more than
   * the cap fails before anything is opened or read. A claim is never trusted beyond that.
   */
  declaredSize?: number | undefined;
  /**
   * The error for too much content: `size` is the declared size, or undefined when the bytes
   * passed the cap while they were read (default SIZE_EXCEEDED).
   */
  tooLarge?: ((size: number | undefined) => Error) | undefined;
}

/**
 * polypack's one capped reader: reads a stream whole into memory, refusing more than `maxBytes`,
 * before reading when `declaredSize` already says so, else as soon as the bytes pass the cap (so
 * a source that lies about its size, or has none, such as a pipe, costs at most the cap and one
 * chunk). Leaving the loop early ends the stream (for await closes it), so nothing more is read.
 */
export async function readCapped(
  source: CappedSource,
  maxBytes: number,
  options: ReadCappedOptions = {},
): Promise<Buffer> {
  const tooLarge =
    options.tooLarge ??
    ((size: number | undefined) =>
      new PolypackError(
        "SIZE_EXCEEDED",
        size === undefined
          ? `content is over the ${maxBytes}-byte cap`
          : `content of ${size} bytes is over the ${maxBytes}-byte cap`,
      ));
  const { declaredSize } = options;
  if (declaredSize !== undefined && declaredSize > maxBytes) {
    if (typeof source !== "function") closeUnread(source);
    throw tooLarge(declaredSize);
  }
  const stream = typeof source === "function" ? await source() : source;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(undefined);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, size);
}

/** Ends a stream nobody will read, releasing its file or connection; the abort this causes is expected. */
function closeUnread(source: AsyncIterable<Uint8Array>): void {
  if (source instanceof Readable) guardStream(source).destroy();
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
