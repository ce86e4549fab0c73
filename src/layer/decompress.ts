import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/**
 * The uncompressed bytes of a layer stream: gunzipped when `compression` is gzip, or when it is
 * auto and the stream starts with gzip's magic bytes; passed through otherwise.
 */
export async function decompressed(
  source: AsyncIterable<Uint8Array>,
  compression: "gzip" | "none" | "auto",
): Promise<AsyncIterable<Uint8Array>> {
  let stream = source;
  if (compression === "auto") {
    const { head, rest } = await peek(source, 2);
    stream = rest;
    compression = head[0] === 0x1f && head[1] === 0x8b ? "gzip" : "none";
  }
  if (compression === "none") return stream;
  const gunzip = createGunzip();
  pipeline(Readable.from(stream, { objectMode: false }), gunzip, () => undefined);
  return gunzip;
}

/** The first `count` bytes of a stream (fewer if it is shorter) and the whole stream again. */
export async function peek(
  source: AsyncIterable<Uint8Array>,
  count: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < count) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    seen.push(next.value);
    length += next.value.byteLength;
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      yield* seen;
      while (!done) {
        const next = await iterator.next();
        done = next.done === true;
        if (next.done) return;
        yield next.value;
      }
    } finally {
      if (!done) await iterator.return?.();
    }
  }
  return { head: Buffer.concat(seen).subarray(0, count), rest: replay() };
}
