import { Transform, type TransformCallback } from "node:stream";
import { PolypackError } from "../errors/index.js";
import { Digest, Digester } from "./digest.js";
import type { Descriptor } from "./descriptor.js";

/** Buffer size for streaming blobs: big enough to amortise per-chunk work, small enough to stay flat. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

/**
 * A pass-through stream that counts and hashes what flows through it, and fails with
 * SIZE_MISMATCH as soon as more than `descriptor.size` bytes arrive, or with DIGEST_MISMATCH /
 * SIZE_MISMATCH at the end. Nothing downstream sees the end of a stream that did not verify.
 */
export function verifyingStream(descriptor: Descriptor, context: string): Transform {
  const digester = new Digester(Digest.parse(descriptor.digest, context).algorithm);
  return checkedStream(
    descriptor,
    context,
    (chunk) => digester.update(chunk),
    () => Promise.resolve(digester.digest()),
  );
}

/**
 * The checks of `verifyingStream` with the hashing left to the caller: `onChunk` sees every chunk
 * and `finalDigest` supplies the digest once the stream has ended (for example from a worker
 * thread that hashed the same file).
 */
export function checkedStream(
  descriptor: Descriptor,
  context: string,
  onChunk: (chunk: Buffer) => void,
  finalDigest: () => Promise<Digest>,
): Transform {
  const expected = Digest.parse(descriptor.digest, context);
  let size = 0;
  return new Transform({
    highWaterMark: STREAM_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > descriptor.size) {
        callback(
          new PolypackError(
            "SIZE_MISMATCH",
            `${context}: ${descriptor.digest} is larger than its declared ${descriptor.size} bytes`,
          ),
        );
        return;
      }
      onChunk(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (size !== descriptor.size) {
        callback(
          new PolypackError(
            "SIZE_MISMATCH",
            `${context}: ${descriptor.digest} has ${size} bytes, expected ${descriptor.size}`,
          ),
        );
        return;
      }
      finalDigest().then(
        (actual) => callback(actual.equals(expected) ? null : mismatch(context, actual, expected)),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
  });
}

function mismatch(context: string, actual: Digest, expected: Digest): PolypackError {
  return new PolypackError(
    "DIGEST_MISMATCH",
    `${context}: content has digest ${actual.toString()}, expected ${expected.toString()}`,
  );
}

/** Checks bytes held in memory against a descriptor. */
export function verifyBytes(
  bytes: Buffer,
  descriptor: Pick<Descriptor, "digest" | "size">,
  context: string,
): void {
  const expected = Digest.parse(descriptor.digest, context);
  if (bytes.length !== descriptor.size) {
    throw new PolypackError(
      "SIZE_MISMATCH",
      `${context}: ${descriptor.digest} has ${bytes.length} bytes, expected ${descriptor.size}`,
    );
  }
  const actual = Digest.of(bytes, expected.algorithm);
  if (!actual.equals(expected)) throw mismatch(context, actual, expected);
}
