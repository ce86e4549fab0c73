import { Transform, type TransformCallback } from "node:stream";
import { promisify } from "node:util";
import { crc32, createGzip, gzip, type Gzip } from "node:zlib";
import { PolypackError } from "../errors/index.js";

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

// The fixed header of a stored member: magic, deflate, no flags, MTIME 0, no extra flags, OS 255.
const STORED_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, GZIP_OS_UNKNOWN]);
const STORED_BLOCK_BYTES = 65535;
const TRAILER_BYTES = 8;

/**
 * One gzip member holding `input` in stored (uncompressed) deflate blocks: valid gzip that every
 * reader inflates back to `input`, made without compressing. The bytes are written here, not by
 * zlib, so they are the same whatever zlib a machine has: blocks of 65535 bytes (the last shorter,
 * or one empty block for no input), each a byte with only BFINAL, then LEN and ~LEN.
 */
export function storedMember(input: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(input.length / STORED_BLOCK_BYTES));
  const member = Buffer.allocUnsafe(STORED_HEADER.length + blocks * 5 + input.length + TRAILER_BYTES);
  let at = STORED_HEADER.copy(member);
  for (let block = 0; block < blocks; block++) {
    const start = block * STORED_BLOCK_BYTES;
    const length = Math.min(STORED_BLOCK_BYTES, input.length - start);
    member[at] = block === blocks - 1 ? 1 : 0;
    member.writeUInt16LE(length, at + 1);
    member.writeUInt16LE(~length & 0xffff, at + 3);
    at += 5;
    member.set(input.subarray(start, start + length), at);
    at += length;
  }
  member.writeUInt32LE(crc32(input), at);
  member.writeUInt32LE(input.length % 2 ** 32, at + 4);
  return member;
}

// The compressibility probe: PROBE_SAMPLES windows of PROBE_WINDOW bytes, spread evenly over the
// input. A window whose byte histogram is as flat as random bytes' (a chi-square statistic against
// the uniform distribution under PROBE_FLAT) is taken as incompressible; random bytes score about
// 255 (standard deviation 23), text and code tens of thousands, base64 about 12000.
const PROBE_WINDOW = 4096;
const PROBE_SAMPLES = 16;
const PROBE_FLAT = 400;
/** Inputs shorter than this are always compressed: it costs next to nothing. */
const PROBE_MIN_BYTES = 64 * 1024;
/** Part of the layer format: a new probe gives other members, so other digests. */
export const PROBE_VERSION = 1;

/**
 * Whether `input` looks like it would not compress (already compressed archives, images, random
 * data): most sampled windows have a flat byte histogram. A pure function of the bytes, in integer
 * arithmetic, so the choice (and the layer digest) is the same on every machine.
 */
export function looksIncompressible(input: Uint8Array): boolean {
  if (input.length < PROBE_MIN_BYTES) return false;
  const counts = new Uint32Array(256);
  const stride = Math.floor((input.length - PROBE_WINDOW) / (PROBE_SAMPLES - 1));
  let flat = 0;
  for (let sample = 0; sample < PROBE_SAMPLES; sample++) {
    counts.fill(0);
    const start = sample * stride;
    for (let i = start; i < start + PROBE_WINDOW; i++) counts[input[i]!]!++;
    let squares = 0;
    for (const count of counts) squares += count * count;
    // chi² = Σ(count − e)² / e with e = window / 256, which is 256·Σcount² / window − window.
    if ((256 * squares) / PROBE_WINDOW - PROBE_WINDOW < PROBE_FLAT) flat++;
  }
  return flat * 4 >= PROBE_SAMPLES * 3;
}
