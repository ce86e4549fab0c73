import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as delay } from "node:timers/promises";
import { isPolypackError, type PolypackError } from "../../errors/index.js";
import { retrying } from "../../http/retry.js";
import type { HttpRequest } from "../../http/message.js";
import type { HttpStack } from "../../http/stack.js";
import type { Digest } from "../../oci/digest.js";
import { STREAM_CHUNK_BYTES, verifyingStream } from "../../oci/verify.js";
import { forgetTemp, tempPathBeside } from "../../util/fs.js";
import type { CacheEntry, DependencyCache } from "../cache.js";
import { failure, isTransient, labelled, nameDependency, reason, type DependencyLabel } from "../failure.js";
import { maxDownloadBytes } from "../download-cap.js";
import { downloadErrors } from "../http-source.js";
import { openSource } from "../open-source.js";
import { resolveDependencyUri } from "../source-uri.js";

/** A file fetched for a new entry: its checksum (computed here) and its verified place in the cache. */
export interface FetchedFile {
  digest: Digest;
  entry: CacheEntry;
}

/** How new files are fetched; the HTTP stack is the one offline packaging downloads with. */
export interface FetchNewOptions {
  cache: DependencyCache;
  /** The buildpack's folder, for relative `file:` URIs. */
  baseDir: string;
  caFile?: string;
  /** Retries of transient failures after the first attempt; default 2. */
  retries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  /** The most bytes one download may have; default POLYPACK_MAX_DOWNLOAD_SIZE, else 2 GiB. */
  maxBytes?: number;
  /** Told as bytes arrive: the attempt's running count and the announced size. */
  onBytes?: (label: DependencyLabel, bytesDone: number, size: number | undefined) => void;
}

/**
 * Fetches files whose checksum is not known yet, which is what adding an entry means: each is
 * streamed to a temporary file beside the cache while hashed, then stored in the checksum-keyed
 * cache (verified again on the way in), so that packaging later finds it there. Transient failures
 * are retried whole, as offline packaging does.
 */
export class NewFileFetcher {
  private stack: Promise<HttpStack<HttpRequest>> | undefined;
  private readonly maxBytes: number;

  constructor(private readonly options: FetchNewOptions) {
    // Read here, so that a bad POLYPACK_MAX_DOWNLOAD_SIZE fails before the first download.
    this.maxBytes = maxDownloadBytes(options.maxBytes);
  }

  /** Fetches `uri`, named by `label` in messages. */
  async fetch(uri: string, label: DependencyLabel): Promise<FetchedFile> {
    const source = (() => {
      try {
        return resolveDependencyUri(uri, this.options.baseDir);
      } catch (error) {
        throw isPolypackError(error) ? labelled(error, label) : error;
      }
    })();
    const policy = {
      maxAttempts: (this.options.retries ?? 2) + 1,
      baseDelayMs: this.options.retryDelayMs ?? 500,
      maxDelayMs: Number.MAX_SAFE_INTEGER,
      maxRetryAfterMs: 60_000,
      jitter: false,
    };
    const clock = { now: () => Date.now(), sleep: (ms: number) => delay(ms), random: () => 0 };
    try {
      return await retrying(policy, clock, () => this.attempt(source, label), isTransient);
    } catch (error) {
      const failed: PolypackError = isPolypackError(error)
        ? error
        : failure("DEPENDENCY_DOWNLOAD_FAILED", reason(error), { cause: error });
      throw labelled(failed, label);
    }
  }

  /** Lets the HTTP connections go. */
  async close(): Promise<void> {
    if (this.stack !== undefined) await (await this.stack).close();
  }

  private async attempt(
    source: ReturnType<typeof resolveDependencyUri>,
    label: DependencyLabel,
  ): Promise<FetchedFile> {
    const idleTimeoutMs = this.options.idleTimeoutMs ?? 60_000;
    const { stream, size } = await openSource(source, {
      stack: () => (this.stack ??= this.createStack(idleTimeoutMs)),
      idleTimeoutMs,
      maxBytes: this.maxBytes,
    });
    const { cache } = this.options;
    const temp = tempPathBeside(join(cache.dir, "incoming"));
    // Hashed and counted by the one verifying stream (no checksum is known yet: it is made here).
    const tap = verifyingStream({}, nameDependency(label), {
      onProgress: (bytes) => this.options.onBytes?.(label, bytes, size),
    });
    try {
      await mkdir(dirname(temp), { recursive: true });
      try {
        await pipeline(stream, tap, createWriteStream(temp, { flags: "wx" }));
      } catch (error) {
        if (isPolypackError(error)) throw error;
        const progress = size === undefined ? `${tap.bytes} bytes` : `${tap.bytes} of ${size} bytes`;
        throw failure(
          source.kind === "file" ? "DEPENDENCY_DOWNLOAD_FAILED" : "DEPENDENCY_TRUNCATED",
          `the transfer stopped after ${progress}: ${reason(error)}`,
          { transient: source.kind === "http", cause: error },
        );
      }
      if (size !== undefined && tap.bytes !== size) {
        throw failure("DEPENDENCY_TRUNCATED", `the transfer ended after ${tap.bytes} of ${size} bytes`, {
          transient: true,
        });
      }
      const digest = tap.digest();
      const entry =
        (await cache.entry(digest)) ??
        (await cache.put(digest, createReadStream(temp, { highWaterMark: STREAM_CHUNK_BYTES }), {
          expectedSize: tap.bytes,
        }));
      return { digest, entry };
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
      forgetTemp(temp);
    }
  }

  private async createStack(idleTimeoutMs: number): Promise<HttpStack<HttpRequest>> {
    // Loaded on the first download only, as offline packaging does.
    const { createHttpStack } = await import("../../http/stack.js");
    return createHttpStack<HttpRequest>({
      errors: downloadErrors,
      timeoutMs: idleTimeoutMs,
      retry: false,
      ...(this.options.caFile ? { caFile: this.options.caFile } : {}),
    });
  }
}
