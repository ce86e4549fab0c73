import { pipeline, Transform, type Readable, type TransformCallback } from "node:stream";
import { PolypackError } from "../errors/index.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/**
 * The default cap on one http(s) download (a buildpack archive, a dependency, a lifecycle): 2 GiB.
 * A checksum is compared only at the end, so without a cap a server that streams forever fills the
 * disk first; real dependency archives are a few hundred MiB at most.
 */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

/** The environment variable that sets another cap: bytes, or a number with KiB, MiB, GiB or TiB. */
export const MAX_DOWNLOAD_ENV = "POLYPACK_MAX_DOWNLOAD_SIZE";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * The cap on one download: `explicit` when a caller gives one, else POLYPACK_MAX_DOWNLOAD_SIZE, else
 * 2 GiB. A value that is not a positive size is a usage error (FLAG_INVALID), found before any
 * download starts rather than silently ignored.
 */
export function maxDownloadBytes(explicit?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) return explicit;
  const text = env[MAX_DOWNLOAD_ENV];
  if (text === undefined || text.trim() === "") return DEFAULT_MAX_DOWNLOAD_BYTES;
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new PolypackError(
      "FLAG_INVALID",
      `${MAX_DOWNLOAD_ENV} ${JSON.stringify(text)} is invalid: expected a size such as 4GiB, 500MiB or a number of bytes`,
      { hint: `set ${MAX_DOWNLOAD_ENV} to a size such as 4GiB, or unset it for the 2 GiB default` },
    );
  }
  return bytes;
}

/**
 * The failure of a download over its cap: SIZE_EXCEEDED with the cap and how to raise it. `declared`
 * is the Content-Length when that alone gave the download away; callers add the (redacted) URL.
 */
export function downloadTooLarge(cap: number, declared?: number): PolypackError {
  const what =
    declared === undefined
      ? `the download passed the ${describeBytes(cap)} cap and was stopped`
      : `the server announces ${declared} bytes, over the ${describeBytes(cap)} cap`;
  return new PolypackError("SIZE_EXCEEDED", `${what}; nothing was kept`, {
    hint: `if the file really is this large, raise the cap with ${MAX_DOWNLOAD_ENV} (for example 4GiB)`,
  });
}

/**
 * `body` passed through a counter that fails with `downloadTooLarge` as soon as more than `cap`
 * bytes arrive, which also ends the body (and its connection). Errors of the body reach the reader
 * unchanged, so callers still tell an idle timeout from a connection closed early.
 */
export function cappedBody(body: Readable, cap: number): Readable {
  let bytes = 0;
  const counter = new Transform({
    highWaterMark: STREAM_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > cap) callback(downloadTooLarge(cap));
      else callback(null, chunk);
    },
  });
  // The reader sees every failure on `counter` itself; the callback only keeps pipeline quiet.
  return pipeline(body, counter, () => undefined);
}

/** `2147483648 bytes (2 GiB)`, the unit part only for whole KiB, MiB, GiB or TiB. */
function describeBytes(bytes: number): string {
  for (const [unit, size] of [
    ["TiB", 1024 ** 4],
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes}-byte (${bytes / size} ${unit})`;
  }
  return `${bytes}-byte`;
}
