import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { DigestAlgorithm } from "../oci/digest.js";
import type { FileHashReply, FileHashRequest } from "./file-hash-thread.js";

/**
 * Hashes files on worker threads. Moving a blob out of a layout or `.cnb` costs one read and one
 * hash; on a core without SHA extensions the hash is the slower half, so it runs on another thread
 * reading the same (cached) pages while the main thread streams the bytes on. The threads read into
 * one reused buffer, so memory stays flat for files of any size.
 */
class FileHashPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (r: { hex: string; bytes: number }) => void; reject: (e: Error) => void }
  >();
  private readonly busy: number[] = [];
  private nextId = 1;

  hash(
    path: string,
    algorithm: DigestAlgorithm,
    start: number,
    length: number,
  ): Promise<{ hex: string; bytes: number }> {
    const index = this.pickWorker();
    const worker = this.workers[index]!;
    const id = this.nextId++;
    if (this.busy[index]!++ === 0) worker.ref();
    return new Promise<{ hex: string; bytes: number }>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, path, algorithm, start, length } satisfies FileHashRequest);
    }).finally(() => {
      if (--this.busy[index]! === 0) worker.unref();
    });
  }

  private pickWorker(): number {
    const size = Math.max(1, Math.min(4, availableParallelism()));
    const idle = this.busy.indexOf(0);
    if (idle >= 0) return idle;
    if (this.workers.length < size) {
      const worker = new Worker(new URL("./file-hash-thread.js", import.meta.url));
      worker.on("message", (reply: FileHashReply) => this.settle(reply));
      worker.on("error", (error) => {
        for (const [id, job] of this.pending) {
          this.pending.delete(id);
          job.reject(error);
        }
      });
      worker.unref();
      this.workers.push(worker);
      this.busy.push(0);
      return this.workers.length - 1;
    }
    return this.busy.indexOf(Math.min(...this.busy));
  }

  private settle(reply: FileHashReply): void {
    const job = this.pending.get(reply.id);
    if (!job) return;
    this.pending.delete(reply.id);
    if ("error" in reply) job.reject(new Error(reply.error));
    else job.resolve(reply);
  }
}

let pool: FileHashPool | undefined;

/** The digest (hex) of `length` bytes of a file from `start`, computed on a worker thread. */
export function hashFileRange(
  path: string,
  algorithm: DigestAlgorithm,
  start: number,
  length: number,
): Promise<{ hex: string; bytes: number }> {
  pool ??= new FileHashPool();
  return pool.hash(path, algorithm, start, length);
}
