import { Transform, type TransformCallback } from "node:stream";
import { createGzip, type Gzip } from "node:zlib";
import { PolypackError } from "../errors.js";

/** The compression level pack uses (Go's and zlib's default). */
export const DEFAULT_GZIP_LEVEL = 6;
/** The gzip OS byte for "unknown", which Go's compress/gzip writes on every platform. */
export const GZIP_OS_UNKNOWN = 255;
const OS_BYTE_OFFSET = 9;

/** A zlib gzip compressor at a pinned level; pair it with gzipHeaderNormalizer(). */
export function createLayerGzip(level: number = DEFAULT_GZIP_LEVEL): Gzip {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new PolypackError("COMPRESSION_LEVEL_INVALID", `gzip level ${level} is invalid`, {
      hint: "use a whole number from 0 (store) to 9 (smallest)",
    });
  }
  return createGzip({ level });
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
