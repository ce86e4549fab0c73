// Runs inside a worker thread of src/layer/threaded-hash.ts: hashes streams of shared chunks.
import { createHash, type Hash } from "node:crypto";
import { parentPort } from "node:worker_threads";

/** A message from the main thread: a chunk of a stream, its end, or both. */
export interface StreamHashRequest {
  stream: number;
  algorithm: string;
  /** A view of shared memory, hashed in place without a copy; absent for a bare end or cancel. */
  data?: Uint8Array;
  /** Finishes the stream and replies with its digest. */
  end?: boolean;
  /** Forgets the stream without a reply. */
  cancel?: boolean;
}

/** The answer: bytes hashed so far (after each chunk), the digest at the end, or an error. */
export type StreamHashReply =
  { stream: number; hashed: number } | { stream: number; hex: string } | { stream: number; error: string };

const streams = new Map<number, Hash>();
const port = parentPort;

port?.on("message", (request: StreamHashRequest) => {
  try {
    if (request.cancel) {
      streams.delete(request.stream);
      return;
    }
    let hash = streams.get(request.stream);
    if (!hash) {
      hash = createHash(request.algorithm);
      streams.set(request.stream, hash);
    }
    if (request.data) {
      hash.update(request.data);
      port.postMessage({ stream: request.stream, hashed: request.data.byteLength } satisfies StreamHashReply);
    }
    if (request.end) {
      streams.delete(request.stream);
      port.postMessage({ stream: request.stream, hex: hash.digest("hex") } satisfies StreamHashReply);
    }
  } catch (error) {
    streams.delete(request.stream);
    port.postMessage({ stream: request.stream, error: String(error) } satisfies StreamHashReply);
  }
});
