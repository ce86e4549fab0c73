import { open, type FileHandle } from "node:fs/promises";
import { PolypackError } from "../errors/index.js";
import { identityOf, sameIdentity, type FileIdentity } from "../util/file-identity.js";
import type { StreamedFileEntry } from "./entry.js";

const CHUNK = 1024 * 1024;

/**
 * A streamed entry's file on disk, opened for reading. It must keep its identity while it is read
 * (and have the entry's `verified` identity, when one is named): a file that changes under the
 * writer fails the layer instead of giving bytes that no one checked.
 */
export class EntryFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly file: string,
    private readonly before: FileIdentity,
  ) {}

  /** Opens the file of `entry` (archive path `path`) and checks its identity and size. */
  static async open(path: string, entry: StreamedFileEntry & { file: string }): Promise<EntryFile> {
    const handle = await open(entry.file, "r");
    try {
      const before = identityOf(await handle.stat({ bigint: true }));
      if (entry.verified && !sameIdentity(before, entry.verified)) throw changed(path, entry.file);
      if (before.size !== entry.size) throw sizeMismatch(path, entry.size, before.size);
      return new EntryFile(handle, path, entry.file, before);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Fills `bytes[at, at + length)` from the file at `position`. */
  async readInto(bytes: Buffer, at: number, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(bytes, at + done, length - done, position + done);
      if (bytesRead === 0) throw sizeMismatch(this.path, this.before.size, position + done);
      done += bytesRead;
    }
  }

  /** The whole content in chunks of at most 1 MiB, each a fresh buffer. */
  async *chunks(): AsyncGenerator<Buffer> {
    for (let position = 0; position < this.before.size; position += CHUNK) {
      const length = Math.min(CHUNK, this.before.size - position);
      const bytes = Buffer.allocUnsafe(length);
      await this.readInto(bytes, 0, length, position);
      yield bytes;
    }
  }

  /** Checks that the file did not change while it was read, and closes it. */
  async finish(): Promise<void> {
    try {
      const after = identityOf(await this.handle.stat({ bigint: true }));
      if (!sameIdentity(this.before, after)) throw changed(this.path, this.file);
    } finally {
      await this.handle.close();
    }
  }

  /** Closes the file without a check (after a failure). */
  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * What `body` yields from the file of `entry`: opened and checked first, checked again once `body`
 * is done (a file that changed meanwhile fails), and closed whatever happens.
 */
export async function* readEntryFile<T>(
  path: string,
  entry: StreamedFileEntry & { file: string },
  body: (file: EntryFile) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const file = await EntryFile.open(path, entry);
  let finished = false;
  try {
    yield* body(file);
    finished = true;
    await file.finish();
  } finally {
    if (!finished) await file.close();
  }
}

function changed(path: string, file: string): PolypackError {
  return new PolypackError("LAYER_SOURCE_CHANGED", `${path}: ${file} changed while the layer was written`, {
    hint: "something modified the file during packaging; run again",
  });
}

/** A file that did not have the size the layer was planned with. */
export function sizeMismatch(path: string, expected: number, actual: number): PolypackError {
  const got = actual > expected ? "more" : `${actual}`;
  return new PolypackError("LAYER_SIZE_MISMATCH", `${path}: expected ${expected} bytes but got ${got}`, {
    hint: "a file changed while the layer was being written; run again",
  });
}
