import { Worker } from "node:worker_threads";
import type { FileRange, HashThreadData, StreamHashReply, StreamHashRequest } from "./hash-thread.js";

// Two threads: the diffID and the blob digest of a layer are each one long sequential hash, and
// they run side by side; one-shot hashes go to whichever thread has less queued.
const THREADS = 2;
// Bytes reach a thread through one ring of shared memory, allocated once per thread. Chunks are
// copied in (a copy costs a few percent of a hash) and released when hashed, so memory stays
// fixed whatever the garbage collectors do; handing over fresh buffers instead left every one of
// them alive until the thread's collector ran, which it hardly does.
const RING_BYTES = 8 * 1024 * 1024;
// A chunk goes in pieces of at most this size, so a big chunk never waits for the whole ring.
const MAX_PIECE = RING_BYTES / 4;

interface PendingDigest {
  resolve: (hex: string) => void;
  reject: (error: Error) => void;
}

/** One worker thread, its ring, and the streams it hashes. */
class HashThread {
  private readonly worker: Worker;
  private readonly ring = new SharedArrayBuffer(RING_BYTES);
  private readonly view = new Uint8Array(this.ring);
  private head = 0;
  /** Ring bytes written and not yet released by the thread. */
  used = 0;
  /** Open streams, by id. */
  readonly digests = new Map<number, PendingDigest | undefined>();
  failure: Error | undefined;
  private readonly spaceWaiters: (() => void)[] = [];
  private awaited = 0;

  constructor() {
    this.worker = new Worker(new URL("./hash-thread.js", import.meta.url), {
      workerData: { ring: this.ring } satisfies HashThreadData,
    });
    this.worker.on("message", (reply: StreamHashReply) => this.settle(reply));
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => this.fail(new Error(`hash thread exited with code ${code}`)));
    // After the listeners: adding a message listener refs the thread's port again.
    this.worker.unref();
  }

  /** Copies a chunk of a stream into the ring, piece by piece, waiting for space when it is full. */
  async write(stream: number, algorithm: string, chunk: Uint8Array): Promise<void> {
    let done = 0;
    while (done < chunk.byteLength) {
      this.check();
      const room = this.contiguousRoom();
      if (room === 0) {
        await this.awaiting(new Promise<void>((resolve) => this.spaceWaiters.push(resolve)));
        continue;
      }
      const length = Math.min(room, MAX_PIECE, chunk.byteLength - done);
      this.view.set(chunk.subarray(done, done + length), this.head);
      this.post({ stream, algorithm, offset: this.head, length });
      this.head = (this.head + length) % RING_BYTES;
      this.used += length;
      done += length;
    }
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

  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Free bytes from the head on, before the ring wraps or meets unreleased bytes. */
  private contiguousRoom(): number {
    if (this.used === 0) this.head = 0;
    const tail = (this.head - this.used + RING_BYTES) % RING_BYTES;
    if (this.used === RING_BYTES) return 0;
    return this.head >= tail ? RING_BYTES - this.head : tail - this.head;
  }

  private settle(reply: StreamHashReply): void {
    if ("released" in reply) {
      this.used -= reply.released;
      for (const wake of this.spaceWaiters.splice(0)) wake();
      return;
    }
    const pending = this.digests.get(reply.stream);
    this.digests.delete(reply.stream);
    if ("hex" in reply) pending?.resolve(reply.hex);
    else pending?.reject(new Error(reply.error));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const pending of this.digests.values()) pending?.reject(error);
    this.digests.clear();
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }
}

let threads: HashThread[] = [];
let nextStream = 1;

/**
 * The thread for a new stream: a new one while there are fewer than THREADS, else the one with the
 * fewest open streams and, among those, the fewest bytes queued.
 */
function pickThread(): HashThread {
  threads = threads.filter((thread) => !thread.failure);
  if (threads.length < THREADS) {
    const thread = new HashThread();
    threads.push(thread);
    return thread;
  }
  const load = (thread: HashThread): number => thread.digests.size * RING_BYTES + thread.used;
  return threads.reduce((best, thread) => (load(thread) < load(best) ? thread : best));
}

/**
 * An incremental hash computed on a worker thread, so that hashing a layer's bytes does not hold
 * up the main thread. The chunk may be reused as soon as update() resolves.
 */
export class ThreadedHash {
  /** Bytes handed over so far. */
  size = 0;
  private readonly thread: HashThread;
  private readonly id = nextStream++;
  private finished = false;

  constructor(
    /** A node:crypto hash name. */
    readonly algorithm: string,
  ) {
    this.thread = pickThread();
    this.thread.digests.set(this.id, undefined);
  }

  /** Hands a chunk to the thread; waits while the thread is far behind. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw new Error("hash stream already finished");
    await this.thread.write(this.id, this.algorithm, chunk);
    this.size += chunk.byteLength;
  }

  /**
   * Has the thread read a run of a file and hash it next, so its bytes never pass through this
   * thread. A file that is missing or shorter fails the digest.
   */
  updateFromFile(range: FileRange): void {
    if (this.finished) throw new Error("hash stream already finished");
    this.thread.check();
    this.thread.post({ stream: this.id, algorithm: this.algorithm, range });
    this.size += range.length;
  }

  /** The hex digest of everything handed over; the stream is closed. */
  async digest(): Promise<string> {
    if (this.finished) throw new Error("hash stream already finished");
    this.thread.check();
    this.finished = true;
    const result = new Promise<string>((resolve, reject) =>
      this.thread.digests.set(this.id, { resolve, reject }),
    );
    this.thread.post({ stream: this.id, algorithm: this.algorithm, end: true });
    return this.thread.awaiting(result);
  }

  /** Drops the stream without a digest (after a failed write); safe to call more than once. */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.thread.digests.delete(this.id)) {
      this.thread.post({ stream: this.id, algorithm: this.algorithm, cancel: true });
    }
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
