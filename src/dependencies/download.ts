import { setTimeout as delay } from "node:timers/promises";
import type { Dependency } from "../buildpack/dependencies.js";
import type { Digest } from "../oci/digest.js";
import type { HttpRequest } from "../http/message.js";
import type { HttpStack } from "../http/stack.js";
import { mapLimit } from "../util/concurrency.js";
import type { FileIdentity } from "../util/file-identity.js";
import { DependencyCache } from "./cache.js";
import { maxDownloadBytes } from "./download-cap.js";
import { fetchIntoCache, type FetchOptions } from "./fetch.js";
import { downloadErrors } from "./http-source.js";
import { planDownloads, type DependencyRequest, type DownloadJob } from "./plan.js";

/**
 * Progress of one file, for progress bars. `start` comes when an attempt has an answer (again,
 * from zero bytes, for each retry), `progress` as bytes arrive, `done` when the file is verified in
 * the cache, and `cached` instead of all three when it was there already.
 */
export interface DependencyEvent {
  type: "start" | "progress" | "done" | "cached";
  id: string;
  version: string;
  /** The target, or every target that needs this file joined with `, `. */
  target: string;
  /** The redacted URI. */
  url: string;
  /** The checksum, which identifies the file across events. */
  digest: string;
  bytesDone: number;
  /** The announced size; undefined when a server sends no Content-Length. */
  size: number | undefined;
}

/** Options of `downloadDependencies`. */
export interface DownloadOptions {
  /** The directory relative `file:` URIs are resolved against: the buildpack's directory. */
  baseDir: string;
  /** Defaults to the user's cache (see `defaultDependencyCacheDir`). */
  cache?: DependencyCache;
  /** Files downloaded at once; default 4. */
  concurrency?: number;
  onEvent?: (event: DependencyEvent) => void;
  /**
   * A server silent for this long (while connecting, before the headers, or in a paused body) fails
   * the attempt; default 60 s.
   */
  idleTimeoutMs?: number;
  /** A PEM file of extra certificate authorities to trust for https downloads. */
  caFile?: string;
  /** Default 5. */
  maxRedirects?: number;
  /** Retries of transient failures after the first attempt; default 2. */
  retries?: number;
  /** Wait before the first retry, doubled after; default 500 ms. */
  retryDelayMs?: number;
  /** Waits between retries; tests inject one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
  /**
   * The most bytes one download may have; default POLYPACK_MAX_DOWNLOAD_SIZE, else 2 GiB. A
   * checksum is compared only at the end, so this is what stops an endless body filling the disk.
   */
  maxBytes?: number;
}

/** One file in the cache and what needed it. */
export interface DownloadedDependency {
  /** The first dependency entry with this checksum. */
  dependency: Dependency;
  targets: string[];
  digest: Digest;
  /** The verified file in the cache. */
  path: string;
  size: number;
  /** The file's identity when it was verified (see CacheEntry). */
  identity: FileIdentity;
  /** Whether it was in the cache before this call (or another call in this process fetched it). */
  cached: boolean;
}

/**
 * Brings every requested dependency into the cache, once per checksum, up to `concurrency` at a
 * time, and returns one result per distinct file in the order first requested. Everything is checked
 * (checksums present, URIs supported) before the first download; files already cached cause no
 * network traffic. The first failure is thrown once the downloads in flight have ended.
 */
export async function downloadDependencies(
  requests: readonly DependencyRequest[],
  options: DownloadOptions,
): Promise<DownloadedDependency[]> {
  const jobs = planDownloads(requests, options.baseDir);
  const cache = options.cache ?? new DependencyCache();
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const maxBytes = maxDownloadBytes(options.maxBytes);
  // Made on the first download, so that a run finding everything cached never loads the HTTP stack.
  let stack: Promise<HttpStack<HttpRequest>> | undefined;
  const fetchOptions: FetchOptions = {
    http: { stack: () => (stack ??= createStack(options, idleTimeoutMs)), idleTimeoutMs, maxBytes },
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 500,
    sleep: options.sleep ?? ((ms) => delay(ms)),
  };
  try {
    return await mapLimit(jobs, options.concurrency ?? 4, (job) =>
      bringIn(job, cache, fetchOptions, options.onEvent),
    );
  } finally {
    if (stack !== undefined) await (await stack).close();
  }
}

async function bringIn(
  job: DownloadJob,
  cache: DependencyCache,
  fetchOptions: FetchOptions,
  onEvent: ((event: DependencyEvent) => void) | undefined,
): Promise<DownloadedDependency> {
  const { id, version, target, url } = job.label;
  const emit = (type: DependencyEvent["type"], bytesDone: number, size: number | undefined): void =>
    onEvent?.({ type, id, version, target, url, digest: job.digest.toString(), bytesDone, size });
  let downloadedHere = false;
  const stored = await cache.share(job.digest, async () => {
    const entry = await cache.entry(job.digest);
    if (entry !== undefined) return entry;
    const fetched = await fetchIntoCache(job, cache, {
      ...fetchOptions,
      onStart: (size) => emit("start", 0, size),
      onBytes: (bytesDone, size) => emit("progress", bytesDone, size),
    });
    downloadedHere = true;
    return fetched;
  });
  // A caller that found the file cached, or joined another caller's download, hears only `cached`.
  emit(downloadedHere ? "done" : "cached", stored.size, stored.size);
  return {
    dependency: job.dependency,
    targets: job.targets,
    digest: job.digest,
    path: stored.path,
    size: stored.size,
    identity: stored.identity,
    cached: !downloadedHere,
  };
}

/**
 * The shared HTTP stack for downloads: redirects, user agent, idle timeout and connection pool. Its
 * own request retries are off: a download is retried whole by `fetchIntoCache`, body included.
 */
async function createStack(options: DownloadOptions, idleTimeoutMs: number): Promise<HttpStack<HttpRequest>> {
  // Loaded on first download only: commands that download nothing start faster without it.
  const { createHttpStack } = await import("../http/stack.js");
  return createHttpStack<HttpRequest>({
    errors: downloadErrors,
    timeoutMs: idleTimeoutMs,
    retry: false,
    maxRedirects: options.maxRedirects ?? 5,
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  });
}
