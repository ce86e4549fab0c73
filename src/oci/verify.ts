import { Transform, type TransformCallback } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { FileRange } from "../util/hash-thread.js";
import { ThreadedHash } from "../util/threaded-hash.js";
import type { Descriptor } from "./descriptor.js";
import { Digest, Digester, type DigestAlgorithm } from "./digest.js";

/** Buffer size for streaming blobs: big enough to amortise per-chunk work, small enough to stay flat. */
export const STREAM_CHUNK_BYTES = 1024 * 1024;

/** What a verifying stream holds its bytes to; every part may be left out. */
export interface ExpectedContent {
  /** The digest the bytes must have; without one the stream only computes it (see `digest()`). */
  digest?: Digest | string | undefined;
  /** The algorithm to hash with when no digest is expected (default sha256). */
  algorithm?: DigestAlgorithm | undefined;
  /** The exact size: more fails as soon as it arrives, fewer at the end. */
  size?: number | undefined;
  /** The most bytes let through when the size is not known. */
  maxBytes?: number | undefined;
}

/** The errors a verifying stream fails with; content with codes of its own (dependencies) brings its own. */
export interface VerifyFailures {
  /** More than `limit` bytes arrived (the expected size, or the cap). */
  tooLarge(limit: number): Error;
  /** The bytes ended after `bytes` of the expected `size`. */
  tooShort(bytes: number, size: number): Error;
  /** The bytes hash to `actual` instead of `expected`. */
  mismatch(actual: Digest, expected: Digest): Error;
}

/** Options of `verifyingStream`. */
export interface VerifyOptions {
  /**
   * Hash off the main thread: a worker thread reads this range of a file itself (the range the
   * stream is fed from), so the main thread only counts and moves the bytes.
   */
  hashFile?: FileRange | undefined;
  /** Told the running byte count after every chunk. */
  onProgress?: ((bytesDone: number) => void) | undefined;
  /** The errors to fail with (default: SIZE_EXCEEDED, SIZE_MISMATCH and DIGEST_MISMATCH). */
  failures?: VerifyFailures | undefined;
}

/**
 * polypack's one stream that hashes, counts and checks what flows through it. It fails as soon as
 * more bytes arrive than the expected size (or the cap), and at the end when fewer arrived or the
 * digest differs, so nothing downstream sees the end of content that did not verify. Without an
 * expected digest it only computes one, for `digest()`.
 */
export class VerifyingStream extends Transform {
  /** Bytes passed through so far. */
  bytes = 0;
  private readonly expected: Digest | undefined;
  private readonly limit: number | undefined;
  private readonly digester: Digester | undefined;
  private readonly finalDigest: () => Promise<Digest>;
  private result: Digest | undefined;

  constructor(
    private readonly expectation: ExpectedContent,
    private readonly failures: VerifyFailures,
    private readonly options: Pick<VerifyOptions, "hashFile" | "onProgress"> = {},
  ) {
    super({ highWaterMark: STREAM_CHUNK_BYTES });
    const { digest, size, maxBytes } = expectation;
    this.expected = digest === undefined || digest instanceof Digest ? digest : Digest.parse(digest);
    this.limit = size ?? maxBytes;
    const algorithm = this.expected?.algorithm ?? expectation.algorithm ?? "sha256";
    if (options.hashFile === undefined) {
      const digester = new Digester(algorithm);
      this.digester = digester;
      this.finalDigest = () => Promise.resolve(digester.digest());
    } else {
      const hashed = hashOnThread(algorithm, options.hashFile);
      this.finalDigest = async () => Digest.parse(`${algorithm}:${await hashed}`);
    }
  }

  /** The digest of everything that passed, once the stream has ended verified. */
  digest(): Digest {
    if (this.result === undefined) throw new Error("the stream has not ended verified");
    return this.result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.limit !== undefined && this.bytes > this.limit) {
      callback(this.failures.tooLarge(this.limit));
      return;
    }
    this.digester?.update(chunk);
    this.options.onProgress?.(this.bytes);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { size } = this.expectation;
    if (size !== undefined && this.bytes < size) {
      callback(this.failures.tooShort(this.bytes, size));
      return;
    }
    this.finalDigest().then(
      (actual) => {
        if (this.expected !== undefined && !actual.equals(this.expected)) {
          callback(this.failures.mismatch(actual, this.expected));
          return;
        }
        this.result = actual;
        callback();
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}

/** Starts hashing a file range on a worker thread; the promise is guarded until the stream awaits it. */
function hashOnThread(algorithm: DigestAlgorithm, range: FileRange): Promise<string> {
  const hash = new ThreadedHash(algorithm);
  hash.updateFromFile(range);
  const hashed = hash.digest();
  // Awaited at the end of the stream; a failure before then must not count as unhandled.
  hashed.catch(() => undefined);
  return hashed;
}

/**
 * A verifying stream for a blob: exactly `descriptor.size` bytes with `descriptor.digest`, failing
 * with SIZE_MISMATCH (a size other than declared), SIZE_EXCEEDED (over a cap) or DIGEST_MISMATCH (messages start with `context`), or the
 * caller's own `failures`. Pass `{}` as the expectation to only count and hash.
 */
export function verifyingStream(
  expected: Pick<Descriptor, "digest" | "size"> | ExpectedContent,
  context: string,
  options: VerifyOptions = {},
): VerifyingStream {
  const digest =
    expected.digest === undefined ? undefined : Digest.parse(expected.digest.toString(), context);
  const failures = options.failures ?? blobFailures(context, digest?.toString() ?? "content", expected.size);
  return new VerifyingStream({ ...expected, digest }, failures, options);
}

/** The failures of a blob that does not match its descriptor (`size`, when known) or its cap. */
export function blobFailures(context: string, digest: string, size?: number): VerifyFailures {
  return {
    // More than a declared size is a mismatch; more than a cap (no size declared) is too large.
    tooLarge: (limit) =>
      size === undefined
        ? new PolypackError("SIZE_EXCEEDED", `${context}: ${digest} is larger than the ${limit}-byte cap`)
        : new PolypackError(
            "SIZE_MISMATCH",
            `${context}: ${digest} is larger than its declared ${size} bytes`,
          ),
    tooShort: (bytes, expectedSize) =>
      new PolypackError(
        "SIZE_MISMATCH",
        `${context}: ${digest} has ${bytes} bytes, expected ${expectedSize}`,
      ),
    mismatch: (actual, expectedDigest) => mismatch(context, actual, expectedDigest),
  };
}

function mismatch(context: string, actual: Digest, expected: Digest): PolypackError {
  return new PolypackError(
    "DIGEST_MISMATCH",
    `${context}: content has digest ${actual.toString()}, expected ${expected.toString()}`,
  );
}

/**
 * A pass-through stream that only counts, telling `onProgress` the running byte count after every
 * chunk; for bytes that are verified elsewhere (an upload whose source stream verifies itself).
 */
export function progressTap(onProgress: (bytesDone: number) => void): Transform {
  let done = 0;
  return new Transform({
    highWaterMark: STREAM_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      done += chunk.length;
      onProgress(done);
      callback(null, chunk);
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
  if (!actual.equals(expected)) throw mismatch(context, actual, expected);
}
