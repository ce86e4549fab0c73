import { Transform, type TransformCallback } from "node:stream";
import { promisify } from "node:util";
import { createGzip, gzip, type Gzip } from "node:zlib";
import { PolypackError } from "../errors.js";

/** The compression level pack uses (Go's and zlib's default). */
export const DEFAULT_GZIP_LEVEL = 6;
/** The gzip OS byte for "unknown", which Go's compress/gzip writes on every platform. */
export const GZIP_OS_UNKNOWN = 255;
const OS_BYTE_OFFSET = 9;

// zlib hands back output in chunks of this size; each chunk is one trip from the thread pool to
// the main thread, so bigger chunks keep compressing threads busy when the main thread is not idle.
// The compressed bytes do not depend on it.
const MEMBER_CHUNK_SIZE = 256 * 1024;
const gzipAsync = promisify(gzip);

/** Refuses a gzip level zlib does not have. */
export function checkGzipLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new PolypackError("COMPRESSION_LEVEL_INVALID", `gzip level ${level} is invalid`, {
      hint: "use a whole number from 0 (store) to 9 (smallest)",
    });
  }
}

/** A zlib gzip compressor at a pinned level; pair it with gzipHeaderNormalizer(). */
export function createLayerGzip(level: number = DEFAULT_GZIP_LEVEL): Gzip {
  checkGzipLevel(level);
  return createGzip({ level });
}

/**
 * One complete gzip member of `input`, with the platform-independent header: the same bytes
 * createLayerGzip and gzipHeaderNormalizer give for the same input. zlib runs it on the libuv
 * thread pool, so several members compress at once.
 */
export async function gzipMember(input: Uint8Array, level: number = DEFAULT_GZIP_LEVEL): Promise<Buffer> {
  checkGzipLevel(level);
  const member = await gzipAsync(input, { level, chunkSize: MEMBER_CHUNK_SIZE });
  member[OS_BYTE_OFFSET] = GZIP_OS_UNKNOWN;
  return member;
}

/**
 * Rewrites the OS byte of the gzip header that follows. zlib writes the OS it was built for, so the
 * same layer would get a different digest on Windows or macOS; 255 makes it platform independent.
 * zlib already writes MTIME as 0.
 */
export function gzipHeaderNormalizer(): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (seen <= OS_BYTE_OFFSET && seen + chunk.length > OS_BYTE_OFFSET) {
        const copy = Buffer.from(chunk);
        copy[OS_BYTE_OFFSET - seen] = GZIP_OS_UNKNOWN;
        chunk = copy;
      }
      seen += chunk.length;
      callback(null, chunk);
    },
  });
}
