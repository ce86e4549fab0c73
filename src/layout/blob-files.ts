import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { pipeline as pipelineCallback, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { STREAM_CHUNK_BYTES, verifyingStream } from "../oci/verify.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
import { guardStream, readCapped } from "../util/streams.js";

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
    await pipeline(source, verifyingStream(descriptor, context, { onProgress }), file.createWriteStream());
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
  // A hashing thread reads the same (cached) pages itself, so the main thread only streams them on.
  const hashFile = descriptor.size >= OFF_THREAD_HASH_BYTES ? { path, position: start, length } : undefined;
  const verifier = verifyingStream(descriptor, context, { hashFile });
  const file =
    length === 0
      ? Readable.from([])
      : createReadStream(path, { start, end: start + length - 1, highWaterMark: STREAM_CHUNK_BYTES });
  pipelineCallback(file, verifier, () => undefined);
  return verifier;
}

/**
 * A small file read whole, or undefined when it does not exist; more than `maxBytes` is
 * SIZE_EXCEEDED, whatever its size claimed when it was opened (a file still growing, a pipe).
 */
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
    return await readCapped(() => handle.createReadStream({ autoClose: false }), maxBytes, {
      declaredSize: size,
      tooLarge: (declared) =>
        new PolypackError(
          "SIZE_EXCEEDED",
          declared === undefined
            ? `${what} ${path} has more than ${maxBytes} bytes`
            : `${what} ${path} has ${declared} bytes, more than ${maxBytes}`,
        ),
    });
  } finally {
    await handle.close();
  }
}
