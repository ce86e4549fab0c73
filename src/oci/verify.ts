import { Transform, type TransformCallback } from "node:stream";
import { PolypackError } from "../errors.js";
import { Digest, Digester } from "./digest.js";
import type { Descriptor } from "./descriptor.js";

/**
 * A pass-through stream that counts and hashes what flows through it, and fails with
 * SIZE_EXCEEDED as soon as more than `descriptor.size` bytes arrive, or with DIGEST_MISMATCH /
 * SIZE_MISMATCH at the end. Nothing downstream sees the end of a stream that did not verify.
 */
export function verifyingStream(descriptor: Descriptor, context: string): Transform {
  const expected = Digest.parse(descriptor.digest, context);
  const digester = new Digester(expected.algorithm);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      digester.update(chunk);
      if (digester.size > descriptor.size) {
        callback(
          new PolypackError(
            "SIZE_EXCEEDED",
            `${context}: ${descriptor.digest} is larger than its declared ${descriptor.size} bytes`,
          ),
        );
        return;
      }
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (digester.size !== descriptor.size) {
        callback(
          new PolypackError(
            "SIZE_MISMATCH",
            `${context}: ${descriptor.digest} has ${digester.size} bytes, expected ${descriptor.size}`,
          ),
        );
        return;
      }
      const actual = digester.digest();
      if (!actual.equals(expected)) {
        callback(
          new PolypackError(
            "DIGEST_MISMATCH",
            `${context}: content has digest ${actual.toString()}, expected ${expected.toString()}`,
          ),
        );
        return;
      }
      callback();
    },
  });
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
  if (!actual.equals(expected)) {
    throw new PolypackError(
      "DIGEST_MISMATCH",
      `${context}: content has digest ${actual.toString()}, expected ${expected.toString()}`,
    );
  }
}
