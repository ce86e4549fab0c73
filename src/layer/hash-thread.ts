// Runs inside a worker thread of src/layer/threaded-hash.ts: hashes streams whose bytes the main
// thread copies into one ring of shared memory, handed over once at start.
import { createHash, type Hash } from "node:crypto";
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
  /** Finishes the stream and replies with its digest. */
  end?: boolean;
  /** Forgets the stream without a reply. */
  cancel?: boolean;
}

/** The answer: ring bytes done with (after every chunk), the digest at the end, or an error. */
export type StreamHashReply =
  { stream: number; released: number } | { stream: number; hex: string } | { stream: number; error: string };

// Outside a worker (imported by mistake) there is no ring and no port, and nothing happens.
const shared = (workerData as HashThreadData | null)?.ring;
const ring = shared ? new Uint8Array(shared) : new Uint8Array(0);
const streams = new Map<number, Hash | Error>();
const port = parentPort;

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
