import { isPolypackError, type PolypackError } from "../errors/index.js";
import { isIdleTimeout } from "../http/errors.js";
import { retrying } from "../http/retry.js";
import type { Clock } from "../http/retry-policy.js";
import type { Digest } from "../oci/digest.js";
import type { CacheEntry, DependencyCache } from "./cache.js";
import { failure, isTransient, labelled, reason, type DependencyLabel } from "./failure.js";
import type { HttpSourceOptions } from "./http-source.js";
import { openSource } from "./open-source.js";
import type { DependencySource } from "./source-uri.js";

/** One file to bring into the cache: its checksum, where it comes from, and how to name it. */
export interface FetchItem {
  digest: Digest;
  source: DependencySource;
  label: DependencyLabel;
}

/** How `fetchIntoCache` downloads and retries. */
export interface FetchOptions {
  http: HttpSourceOptions;
  /** Retries after the first attempt for transient failures. */
  retries: number;
  /** Wait before the first retry, doubled for each further one. */
  retryDelayMs: number;
  /** Waits between attempts; tests pass one that does not. */
  sleep: (ms: number) => Promise<void>;
  /** Called when an attempt has a response, with its announced size; again for each retry. */
  onStart?: (size: number | undefined) => void;
  /** Called as bytes arrive, with the attempt's running count. */
  onBytes?: (bytesDone: number, size: number | undefined) => void;
}

/**
 * Downloads one dependency into the cache, verified as it streams. Transient failures (connection
 * failures, 5xx answers, bodies cut short) are retried by the HTTP stack's `retrying`, with a
 * doubling wait; the error finally thrown names the dependency, its target and its URL.
 */
export async function fetchIntoCache(
  item: FetchItem,
  cache: DependencyCache,
  options: FetchOptions,
): Promise<CacheEntry> {
  const policy = {
    maxAttempts: options.retries + 1,
    baseDelayMs: options.retryDelayMs,
    maxDelayMs: Number.MAX_SAFE_INTEGER,
    maxRetryAfterMs: 60_000,
    jitter: false,
  };
  const clock: Clock = { now: () => Date.now(), sleep: options.sleep, random: () => 0 };
  try {
    return await retrying(policy, clock, () => attemptOnce(item, cache, options), isTransient);
  } catch (error) {
    const failed = isPolypackError(error)
      ? error
      : failure("DEPENDENCY_DOWNLOAD_FAILED", reason(error), { cause: error });
    throw labelled(failed, item.label);
  }
}

async function attemptOnce(
  item: FetchItem,
  cache: DependencyCache,
  options: FetchOptions,
): Promise<CacheEntry> {
  const { stream, size } = await openSource(item.source, options.http);
  options.onStart?.(size);
  let bytesDone = 0;
  const onBytes = (bytes: number): void => {
    bytesDone = bytes;
    options.onBytes?.(bytes, size);
  };
  try {
    return await cache.put(item.digest, stream, { expectedSize: size, onBytes });
  } catch (error) {
    throw interrupted(error, item, bytesDone, size, options.http.idleTimeoutMs);
  }
}

/** Names a failure of the body itself: a silent server, a connection closed early, a read error. */
function interrupted(
  error: unknown,
  item: FetchItem,
  bytesDone: number,
  size: number | undefined,
  idleTimeoutMs: number,
): PolypackError {
  if (isPolypackError(error)) return error;
  const progress = size === undefined ? `${bytesDone} bytes` : `${bytesDone} of ${size} bytes`;
  if (isIdleTimeout(error)) {
    return failure("DEPENDENCY_DOWNLOAD_FAILED", `no data for ${idleTimeoutMs} ms after ${progress}`, {
      transient: true,
      cause: error,
    });
  }
  if (item.source.kind === "file") {
    return failure("DEPENDENCY_DOWNLOAD_FAILED", `reading stopped after ${progress}: ${reason(error)}`, {
      cause: error,
    });
  }
  return failure("DEPENDENCY_TRUNCATED", `the connection closed after ${progress}: ${reason(error)}`, {
    transient: true,
    cause: error,
  });
}
