import { Transform, type TransformCallback } from "node:stream";
import { Digester, type Digest } from "../oci/digest.js";
import { failure } from "./failure.js";

/** Options of `checksumStream`. */
export interface ChecksumStreamOptions {
  /** The announced length (Content-Length or file size); checked while streaming and at the end. */
  expectedSize?: number;
  /** Told the running byte count after every chunk. */
  onBytes?: (bytesDone: number) => void;
  /** The code for a wrong checksum; a cache entry that no longer matches is corrupt, not a bad download. */
  mismatchCode?: "DEPENDENCY_CHECKSUM_MISMATCH" | "DEPENDENCY_CACHE_CORRUPT";
}

/**
 * A pass-through stream that hashes what flows through it with the algorithm of `expected`. It fails
 * as soon as more than `expectedSize` bytes arrive, and at the end when fewer arrived
 * (DEPENDENCY_TRUNCATED) or the checksum differs, so whatever it feeds never sees a clean end of
 * content that did not verify.
 */
export function checksumStream(expected: Digest, options: ChecksumStreamOptions = {}): Transform {
  const digester = new Digester(expected.algorithm);
  const { expectedSize, onBytes } = options;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      digester.update(chunk);
      if (expectedSize !== undefined && digester.size > expectedSize) {
        callback(
          failure(
            "DEPENDENCY_DOWNLOAD_FAILED",
            `received more than the announced ${expectedSize} bytes (Content-Length or file size)`,
          ),
        );
        return;
      }
      onBytes?.(digester.size);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (expectedSize !== undefined && digester.size < expectedSize) {
        callback(
          failure(
            "DEPENDENCY_TRUNCATED",
            `only ${digester.size} of the announced ${expectedSize} bytes arrived`,
            { transient: true },
          ),
        );
        return;
      }
      const actual = digester.digest();
      if (!actual.equals(expected)) {
        const code = options.mismatchCode ?? "DEPENDENCY_CHECKSUM_MISMATCH";
        callback(
          failure(code, `the content has checksum ${actual.toString()}, expected ${expected.toString()}`, {
            hint:
              code === "DEPENDENCY_CHECKSUM_MISMATCH"
                ? "the file at the URI changed or the checksum in buildpack.toml is wrong"
                : "the cached file was changed after it was stored; it has been removed, run again",
          }),
        );
        return;
      }
      callback();
    },
  });
}
