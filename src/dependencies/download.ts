import { setTimeout as delay } from "node:timers/promises";
import type { Agent, Dispatcher } from "undici";
import type { Dependency } from "../buildpack/dependencies.js";
import type { Digest } from "../oci/digest.js";
import { defaultUserAgent } from "../registry/logging.js";
import { mapLimit } from "../util/concurrency.js";
import type { FileIdentity } from "../util/file-identity.js";
import { DependencyCache } from "./cache.js";
import { fetchIntoCache, type FetchOptions } from "./fetch.js";
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
  /** Connection pool to use; by default one is made, with the timeouts below, and closed at the end. */
  dispatcher?: Dispatcher;
  /** Default 30 s. */
  connectTimeoutMs?: number;
  /** A server silent for this long (no headers, or a paused body) fails the attempt; default 60 s. */
  idleTimeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Retries of transient failures after the first attempt; default 2. */
  retries?: number;
  /** Wait before the first retry, doubled after; default 500 ms. */
  retryDelayMs?: number;
  /** Waits between retries; tests inject one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
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
  // Made on the first download, so that a run finding everything cached never loads undici.
  let dispatcher: Promise<Dispatcher> | undefined;
  const fetchOptions: FetchOptions = {
    http: {
      dispatcher: () =>
        (dispatcher ??= options.dispatcher ? Promise.resolve(options.dispatcher) : createDispatcher(options)),
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxRedirects: options.maxRedirects ?? 5,
      userAgent: options.userAgent ?? defaultUserAgent(),
    },
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 500,
    sleep: options.sleep ?? ((ms) => delay(ms)),
  };
  try {
    return await mapLimit(jobs, options.concurrency ?? 4, (job) =>
      bringIn(job, cache, fetchOptions, options.onEvent),
    );
  } finally {
    if (options.dispatcher === undefined && dispatcher !== undefined) await (await dispatcher).close();
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

async function createDispatcher(options: DownloadOptions): Promise<Agent> {
  const idle = options.idleTimeoutMs ?? 60_000;
  // Loaded on first download only: commands that download nothing start faster without it.
  const { Agent } = await import("undici");
  return new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 30_000 },
    headersTimeout: idle,
    bodyTimeout: idle,
  });
}
