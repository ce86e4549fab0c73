import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pipeline as pipelineCallback, Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isPolypackError } from "../errors/index.js";
import type { Digest } from "../oci/digest.js";
import {
  fileIdentity,
  identityOf,
  identitySettled,
  isFileIdentity,
  nowNs,
  sameIdentity,
  type FileIdentity,
} from "../util/file-identity.js";
import { tempPathBeside } from "../util/fs.js";
import { ThreadedHash } from "../util/threaded-hash.js";
import { defaultDependencyCacheDir } from "./cache-dir.js";
import { verifyingStream } from "../oci/verify.js";
import { dependencyFailures, failure, reason } from "./failure.js";

/** A complete, verified file in the cache. */
export interface CacheEntry {
  path: string;
  size: number;
  /**
   * The file's identity when its content was last checked against its checksum; a reader that
   * finds another identity must not trust the file (see FileIdentity).
   */
  identity: FileIdentity;
}

/** Options of a DependencyCache. */
export interface DependencyCacheOptions {
  /** Told about each entry that failed its check and was removed (it is downloaded again). */
  onDiscard?: (path: string, reason: string) => void;
}

/** Options of `DependencyCache.put`. */
export interface PutOptions {
  /** The announced length (Content-Length or file size); checked while streaming and at the end. */
  expectedSize?: number | undefined;
  /** Told the running byte count after every chunk. */
  onBytes?: ((bytesDone: number) => void) | undefined;
}

// Keyed by the entry's absolute path, so that two cache objects on one directory share downloads too.
const inflight = new Map<string, Promise<CacheEntry>>();

/**
 * Downloaded dependencies stored by checksum, at `<dir>/<algorithm>/<hex>`. An entry is written to a
 * temporary file beside it, verified while it streams, fsynced and renamed into place only when
 * complete, so a file under its final name is always whole and correct; the rename also makes
 * processes that store the same entry at once safe.
 */
export class DependencyCache {
  /** The absolute directory holding `<algorithm>/<hex>` files. */
  readonly dir: string;

  constructor(
    dir: string = defaultDependencyCacheDir(),
    private readonly options: DependencyCacheOptions = {},
  ) {
    this.dir = resolve(dir);
  }

  /** Where the entry for `digest` is (or would be). */
  path(digest: Digest): string {
    return join(this.dir, digest.algorithm, digest.hex);
  }

  /**
   * The stored entry for `digest`, checked, or undefined. A file is evidence, not truth: it is
   * hashed and compared with its checksum, unless it still has the identity it had when it was last
   * found correct (recorded beside it once its last change was long enough ago that no later write
   * could leave its change time as it was). A file that does not match is removed, so the caller
   * downloads it again, and `onDiscard` hears of it.
   */
  async entry(digest: Digest): Promise<CacheEntry | undefined> {
    const path = this.path(digest);
    const before = await stat(path, { bigint: true }).catch(() => undefined);
    if (!before?.isFile()) return undefined;
    const identity = identityOf(before);
    const stamp = this.stampPath(digest);
    const stamped = await readFile(stamp, "utf8")
      .then((text) => JSON.parse(text) as unknown)
      .catch(() => undefined);
    if (isFileIdentity(stamped) && sameIdentity(stamped, identity)) {
      return { path, size: identity.size, identity };
    }
    const takenAt = nowNs();
    const actual = await hashFile(path, digest.algorithm, identity.size).catch(() => undefined);
    const after = await fileIdentity(path).catch(() => undefined);
    if (actual !== digest.hex || !after || !sameIdentity(identity, after)) {
      await rm(path, { force: true });
      await rm(stamp, { force: true });
      const reason =
        actual === undefined || (after && !sameIdentity(identity, after))
          ? "it could not be read, or changed while it was read"
          : `its content has checksum ${digest.algorithm}:${actual}`;
      this.options.onDiscard?.(path, reason);
      return undefined;
    }
    if (identitySettled(identity, takenAt)) await this.writeStamp(stamp, identity);
    return { path, size: identity.size, identity };
  }

  /** Where the identity of the entry for `digest`, as last found correct, is kept. */
  private stampPath(digest: Digest): string {
    return join(this.dir, "verified", digest.algorithm, digest.hex);
  }

  /** Records an identity at which an entry was found correct; a failure only costs a hash next time. */
  private async writeStamp(stamp: string, identity: FileIdentity): Promise<void> {
    const temp = tempPathBeside(stamp);
    try {
      await mkdir(dirname(stamp), { recursive: true });
      await writeFile(temp, JSON.stringify(identity));
      await rename(temp, stamp);
    } catch {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  /** Whether a file is stored for `digest` (unchecked: see entry). */
  async has(digest: Digest): Promise<boolean> {
    return (await this.storedSize(digest)) !== undefined;
  }

  private async storedSize(digest: Digest): Promise<number | undefined> {
    const info = await stat(this.path(digest)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }

  /**
   * Reads an entry back, verifying it again as it streams; a file changed since it was stored fails
   * with DEPENDENCY_CACHE_CORRUPT and is removed so the next run downloads it afresh.
   */
  async open(digest: Digest): Promise<Readable> {
    const size = await this.storedSize(digest);
    if (size === undefined) {
      throw failure("DEPENDENCY_NOT_CACHED", `${digest.toString()} is not in the cache at ${this.dir}`);
    }
    const verify = verifyingStream({ digest, size }, this.path(digest), {
      failures: dependencyFailures("DEPENDENCY_CACHE_CORRUPT"),
    });
    return Readable.from(verifiedChunks(this.path(digest), verify), { objectMode: false });
  }

  /**
   * Streams `source` into the entry for `digest`. Fails, leaving nothing behind, when the content
   * does not match; errors of `source` itself are passed through unchanged for the caller to judge.
   */
  async put(digest: Digest, source: Readable, options: PutOptions = {}): Promise<CacheEntry> {
    const path = this.path(digest);
    const temp = tempPathBeside(path);
    let sourceError: unknown;
    source.on("error", (error) => (sourceError ??= error));
    let file: WriteStream | undefined;
    const verify = verifyingStream({ digest, size: options.expectedSize }, path, {
      onProgress: options.onBytes,
      failures: dependencyFailures("DEPENDENCY_CHECKSUM_MISMATCH"),
    });
    try {
      await mkdir(dirname(path), { recursive: true });
      file = createWriteStream(temp, { flags: "wx" });
      await pipeline(source, verify, file);
      await syncFile(temp);
      await rename(temp, path);
    } catch (error) {
      // The file may still be opening when the pipeline fails; removing it before it is closed
      // would let the open recreate it afterwards.
      if (file !== undefined) await closed(file);
      await rm(temp, { force: true }).catch(() => undefined);
      if (isPolypackError(error) || error === sourceError) throw error;
      throw failure("DEPENDENCY_CACHE_WRITE_FAILED", `cannot write ${path}: ${reason(error)}`, {
        cause: error,
        hint: "check that the cache directory is writable, or set POLYPACK_CACHE_DIR",
      });
    } finally {
      source.destroy();
    }
    await syncFile(dirname(path)).catch(() => undefined);
    // Verified as it streamed in; too fresh for a stamp (see entry), so the next run checks it again.
    return { path, size: verify.bytes, identity: await fileIdentity(path) };
  }

  /**
   * Runs `task` (which finds or stores the entry for `digest`) unless one is already running in this
   * process, in which case its result is shared: concurrent requests for one checksum cause one
   * download.
   */
  share(digest: Digest, task: () => Promise<CacheEntry>): Promise<CacheEntry> {
    const key = this.path(digest);
    const running = inflight.get(key);
    if (running !== undefined) return running;
    const started = task().finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  }
}

/** The chunks of a cache file through its verifier; a corrupt file is removed before the error surfaces. */
async function* verifiedChunks(path: string, verify: Transform): AsyncGenerator<Buffer> {
  const stream = pipelineCallback(createReadStream(path), verify, () => undefined);
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    if (isPolypackError(error, "DEPENDENCY_CACHE_CORRUPT")) await rm(path, { force: true });
    throw error;
  }
}

function closed(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.closed ? resolve() : stream.once("close", () => resolve())));
}

/** Flushes a file (or directory) to disk, so a rename never publishes data still in the page cache. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The hex digest of a whole file, hashed on a worker thread that reads it itself. */
async function hashFile(path: string, algorithm: string, size: number): Promise<string> {
  const hash = new ThreadedHash(algorithm);
  try {
    if (size > 0) hash.updateFromFile({ path, position: 0, length: size });
    return await hash.digest();
  } finally {
    hash.cancel();
  }
}
