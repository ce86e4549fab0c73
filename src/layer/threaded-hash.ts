import { Worker } from "node:worker_threads";
import type { StreamHashReply, StreamHashRequest } from "./hash-thread.js";

// Two threads: the diffID and the blob digest of a layer are each one long sequential hash, and
// they run side by side; one-shot hashes go to whichever thread has less queued.
const THREADS = 2;
// How far a stream may run ahead of its thread before update() waits, so the queue stays small.
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

interface StreamState {
  queued: number;
  onHashed: (() => void)[];
  onDigest?: { resolve: (hex: string) => void; reject: (error: Error) => void };
  failure?: Error;
}

/** One worker thread and the streams it hashes. */
class HashThread {
  readonly worker: Worker;
  readonly streams = new Map<number, StreamState>();
  queued = 0;
  failure: Error | undefined;
  private awaited = 0;

  constructor() {
    this.worker = new Worker(new URL("./hash-thread.js", import.meta.url));
    this.worker.unref();
    this.worker.on("message", (reply: StreamHashReply) => this.settle(reply));
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`hash thread exited with code ${code}`)));
  }

  post(request: StreamHashRequest): void {
    this.worker.postMessage(request);
  }

  /** Keeps the process alive only while someone waits for this thread. */
  async awaiting<T>(promise: Promise<T>): Promise<T> {
    if (this.awaited++ === 0) this.worker.ref();
    try {
      return await promise;
    } finally {
      if (--this.awaited === 0) this.worker.unref();
    }
  }

  private settle(reply: StreamHashReply): void {
    const state = this.streams.get(reply.stream);
    if (!state) return;
    if ("hashed" in reply) {
      state.queued -= reply.hashed;
      this.queued -= reply.hashed;
      for (const wake of state.onHashed.splice(0)) wake();
      return;
    }
    this.streams.delete(reply.stream);
    this.queued -= state.queued;
    if ("hex" in reply) state.onDigest?.resolve(reply.hex);
    else state.onDigest?.reject(new Error(reply.error));
    state.failure = "hex" in reply ? undefined : new Error(reply.error);
    for (const wake of state.onHashed.splice(0)) wake();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const state of this.streams.values()) {
      state.failure = error;
      state.onDigest?.reject(error);
      for (const wake of state.onHashed.splice(0)) wake();
    }
    this.streams.clear();
  }
}

let threads: HashThread[] = [];
let nextStream = 1;

/**
 * The thread for a new stream: a new one while there are fewer than THREADS, else the one with the
 * fewest open streams and, among those, the least queued bytes.
 */
function pickThread(): HashThread {
  threads = threads.filter((thread) => !thread.failure);
  if (threads.length < THREADS) {
    const thread = new HashThread();
    threads.push(thread);
    return thread;
  }
  const load = (thread: HashThread): [number, number] => [thread.streams.size, thread.queued];
  return threads.reduce((best, thread) => {
    const [streams, queued] = load(thread);
    const [bestStreams, bestQueued] = load(best);
    return streams < bestStreams || (streams === bestStreams && queued < bestQueued) ? thread : best;
  });
}

/** A view of shared memory with the chunk's bytes: the chunk itself when it already is one. */
function shared(chunk: Uint8Array): Uint8Array {
  if (chunk.buffer instanceof SharedArrayBuffer) return chunk;
  const copy = new Uint8Array(new SharedArrayBuffer(chunk.byteLength));
  copy.set(chunk);
  return copy;
}

/**
 * An incremental hash computed on a worker thread, so that hashing a layer's bytes does not hold
 * up the main thread. Chunks in shared memory are hashed where they lie; others are copied once.
 * A chunk must not change after it is handed over.
 */
export class ThreadedHash {
  /** Bytes handed over so far. */
  size = 0;
  private readonly thread: HashThread;
  private readonly id = nextStream++;
  private readonly state: StreamState = { queued: 0, onHashed: [] };
  private finished = false;

  constructor(
    /** A node:crypto hash name. */
    readonly algorithm: string,
  ) {
    this.thread = pickThread();
    this.thread.streams.set(this.id, this.state);
  }

  /** Hands a chunk to the thread; waits while the thread is far behind. */
  async update(chunk: Uint8Array): Promise<void> {
    this.check();
    this.thread.post({ stream: this.id, algorithm: this.algorithm, data: shared(chunk) });
    this.size += chunk.byteLength;
    this.state.queued += chunk.byteLength;
    this.thread.queued += chunk.byteLength;
    while (this.state.queued > MAX_QUEUED_BYTES && !this.state.failure) {
      await this.thread.awaiting(new Promise<void>((resolve) => this.state.onHashed.push(resolve)));
    }
    this.check();
  }

  /** The hex digest of everything handed over; the stream is closed. */
  async digest(): Promise<string> {
    this.check();
    this.finished = true;
    const result = new Promise<string>((resolve, reject) => (this.state.onDigest = { resolve, reject }));
    this.thread.post({ stream: this.id, algorithm: this.algorithm, end: true });
    return this.thread.awaiting(result);
  }

  /** Drops the stream without a digest (after a failed write); safe to call more than once. */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.thread.streams.delete(this.id)) {
      this.thread.queued -= this.state.queued;
      this.thread.post({ stream: this.id, algorithm: this.algorithm, cancel: true });
    }
  }

  private check(): void {
    if (this.state.failure) throw this.state.failure;
    if (this.finished) throw new Error("hash stream already finished");
  }
}

/** The hex digest of one chunk, computed on a worker thread. */
export async function hashOnThread(algorithm: string, chunk: Uint8Array): Promise<string> {
  const hash = new ThreadedHash(algorithm);
  try {
    await hash.update(chunk);
    return await hash.digest();
  } finally {
    hash.cancel();
  }
}
