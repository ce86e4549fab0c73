// Runs inside a worker thread of src/util/threaded-hash.ts: hashes streams whose bytes the main
// thread copies into one ring of shared memory, handed over once at start, or that the thread
// reads itself from a run of a file.
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";

/** What the thread is started with. */
export interface HashThreadData {
  ring: SharedArrayBuffer;
}

/** A message from the main thread: bytes of a stream in the ring, its end, or its cancellation. */
export interface StreamHashRequest {
  stream: number;
  algorithm: string;
  /** Where the next bytes of the stream lie in the ring. */
  offset?: number;
  length?: number;
  /** Or: the next bytes are `range.length` bytes of a file from `range.position`; the thread reads them. */
  range?: FileRange;
  /** Finishes the stream and replies with its digest. */
  end?: boolean;
  /** Forgets the stream without a reply. */
  cancel?: boolean;
}

/** A run of bytes in a file. */
export interface FileRange {
  path: string;
  position: number;
  length: number;
}

/** The answer: ring bytes done with (after every chunk), the digest at the end, or an error. */
export type StreamHashReply =
  { stream: number; released: number } | { stream: number; hex: string } | { stream: number; error: string };

// Outside a worker (imported by mistake) there is no ring and no port, and nothing happens.
const shared = (workerData as HashThreadData | null)?.ring;
const ring = shared ? new Uint8Array(shared) : new Uint8Array(0);
const streams = new Map<number, Hash | Error>();
const port = parentPort;
const FILE_CHUNK = 1024 * 1024;
let fileBuffer: Buffer | undefined;

/** Hashes a file range; the error (a missing or short file) is returned, not thrown. */
function hashRange(hash: Hash, { path, position, length }: FileRange): Error | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    fileBuffer ??= Buffer.allocUnsafe(FILE_CHUNK);
    let done = 0;
    while (done < length) {
      const read = readSync(fd, fileBuffer, 0, Math.min(FILE_CHUNK, length - done), position + done);
      if (read === 0) return new Error(`${path} ended after ${done} of ${length} bytes from ${position}`);
      hash.update(fileBuffer.subarray(0, read));
      done += read;
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function hashFor(request: StreamHashRequest): Hash | Error {
  let hash = streams.get(request.stream);
  if (hash === undefined) {
    try {
      hash = createHash(request.algorithm);
    } catch (error) {
      hash = error instanceof Error ? error : new Error(String(error));
    }
    streams.set(request.stream, hash);
  }
  return hash;
}

port?.on("message", (request: StreamHashRequest) => {
  if (request.cancel) {
    streams.delete(request.stream);
    return;
  }
  const hash = hashFor(request);
  if (request.range && !(hash instanceof Error)) {
    const failure = hashRange(hash, request.range);
    if (failure) streams.set(request.stream, failure);
  }
  if (request.length !== undefined && request.offset !== undefined) {
    if (!(hash instanceof Error)) hash.update(ring.subarray(request.offset, request.offset + request.length));
    // Every chunk is released, whatever became of its stream, so the ring never leaks space.
    port.postMessage({ stream: request.stream, released: request.length } satisfies StreamHashReply);
  }
  if (request.end) {
    streams.delete(request.stream);
    port.postMessage(
      hash instanceof Error
        ? { stream: request.stream, error: hash.message }
        : { stream: request.stream, hex: hash.digest("hex") },
    );
  }
});
