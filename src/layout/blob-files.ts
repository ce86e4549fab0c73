import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { pipeline as pipelineCallback, Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { checkedStream, STREAM_CHUNK_BYTES, verifyingStream } from "../oci/verify.js";
import { Digest } from "../oci/digest.js";
import { ThreadedHash } from "../util/threaded-hash.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
import { guardStream } from "../util/streams.js";

/**
 * Streams a blob into `path` through a temporary file beside it: the bytes are verified against
 * the descriptor (digest and size) before the rename, so a wrong or partial blob never appears.
 * The source is opened only once the temporary file is, and piped at once, so no failure of the
 * source can happen while nobody listens for it.
 */
export async function writeVerifiedFile(
  path: string,
  descriptor: Descriptor,
  openSource: () => Promise<Readable>,
  context: string,
  onProgress?: (bytesDone: number) => void,
): Promise<void> {
  const temp = tempPathBeside(path);
  let source: Readable | undefined;
  try {
    // Opened before the data flows: a stream that opens lazily could create the file after a
    // failed pipeline has already cleaned up, leaving a stray temporary file behind.
    const file = await open(temp, "w", 0o644);
    try {
      source = guardStream(await openSource());
    } catch (error) {
      await file.close();
      throw error;
    }
    await pipeline([
      source,
      verifyingStream(descriptor, context),
      ...(onProgress ? [progressTap(onProgress)] : []),
      file.createWriteStream(),
    ]);
    await rename(temp, path);
  } catch (error) {
    source?.destroy();
    await rm(temp, { force: true });
    throw error;
  } finally {
    forgetTemp(temp);
  }
}

/** Blobs this large are hashed on a worker thread while the main thread streams them. */
const OFF_THREAD_HASH_BYTES = 1024 * 1024;

/**
 * A stream over a file (or a byte range of it, for blobs inside a `.cnb` archive) that fails with
 * DIGEST_MISMATCH or SIZE_MISMATCH instead of ending when the bytes do not match the descriptor.
 * Large blobs are hashed by a worker thread reading the same range, so the main thread only moves
 * bytes; the stream still does not end before that digest has been compared.
 */
export function openVerifiedFile(
  path: string,
  descriptor: Descriptor,
  context: string,
  range?: { start: number; length: number },
): Readable {
  const start = range?.start ?? 0;
  const length = range?.length ?? descriptor.size;
  const verifier =
    descriptor.size >= OFF_THREAD_HASH_BYTES
      ? offThreadVerifier(path, descriptor, context, start, length)
      : verifyingStream(descriptor, context);
  const file =
    length === 0
      ? Readable.from([])
      : createReadStream(path, { start, end: start + length - 1, highWaterMark: STREAM_CHUNK_BYTES });
  pipelineCallback(file, verifier, () => undefined);
  return verifier;
}

function offThreadVerifier(
  path: string,
  descriptor: Descriptor,
  context: string,
  start: number,
  length: number,
) {
  const algorithm = Digest.parse(descriptor.digest, context).algorithm;
  // A hashing thread reads the same (cached) pages itself, so the main thread only streams them on.
  const hash = new ThreadedHash(algorithm);
  hash.updateFromFile({ path, position: start, length });
  const hashed = hash.digest();
  // Attach a handler now so a failure before the stream ends is not reported as unhandled.
  hashed.catch(() => undefined);
  return checkedStream(
    descriptor,
    context,
    () => undefined,
    async () => Digest.parse(`${algorithm}:${await hashed}`),
  );
}

/** A small file read whole, or undefined when it does not exist; larger than `maxBytes` is an error. */
export async function readFileCapped(
  path: string,
  maxBytes: number,
  what: string,
): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new PolypackError("SIZE_EXCEEDED", `${what} ${path} has ${size} bytes, more than ${maxBytes}`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function progressTap(onProgress: (bytesDone: number) => void): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      done += chunk.length;
      onProgress(done);
      callback(null, chunk);
    },
  });
}
