// Runs inside a worker thread of src/util/file-hash.ts: hashes byte ranges of files.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { parentPort } from "node:worker_threads";

/** A request from the main thread. */
export interface FileHashRequest {
  id: number;
  path: string;
  algorithm: string;
  start: number;
  length: number;
}

/** The answer: the hex digest and the bytes actually read, or an error message. */
export type FileHashReply = { id: number; hex: string; bytes: number } | { id: number; error: string };

const CHUNK = 1024 * 1024;

async function hashRange(request: FileHashRequest): Promise<{ hex: string; bytes: number }> {
  const hash = createHash(request.algorithm);
  const buffer = Buffer.allocUnsafe(CHUNK);
  const file = await open(request.path, "r");
  let done = 0;
  try {
    while (done < request.length) {
      const want = Math.min(CHUNK, request.length - done);
      const { bytesRead } = await file.read(buffer, 0, want, request.start + done);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await file.close();
  }
  return { hex: hash.digest("hex"), bytes: done };
}

const port = parentPort;
port?.on("message", (request: FileHashRequest) => {
  hashRange(request).then(
    (result) => port.postMessage({ id: request.id, ...result } satisfies FileHashReply),
    (error: unknown) => port.postMessage({ id: request.id, error: String(error) } satisfies FileHashReply),
  );
});
