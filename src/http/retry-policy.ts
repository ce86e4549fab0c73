import { setTimeout as delay } from "node:timers/promises";

/** How often and how long to retry temporary failures. */
export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  /** Delay before the first retry, doubled for each further one. */
  baseDelayMs: number;
  /** Upper bound of the backoff delay. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for; the failure is reported instead. */
  maxRetryAfterMs: number;
  /** Spread each delay over [d/2, d) (default true); false waits exactly d, for predictable tests. */
  jitter?: boolean;
}

/** The defaults: 5 attempts, 0.5 s doubling up to 10 s, Retry-After honoured up to 60 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

/** Time as the retry logic sees it; tests inject one that does not wait. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits the given milliseconds. */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1) for jitter. */
  random(): number;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
  random: () => Math.random(),
};

/**
 * The backoff before retry number `retry` (1 for the first retry): exponential, capped, and
 * jittered into [d/2, d) so that clients that failed together do not return together.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  if (policy.jitter === false) return full;
  return Math.floor(full / 2 + (full / 2) * random);
}

/** Parses Retry-After (delay seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * How long to wait before retry number `retry`, or undefined to give up: attempts are used up, or
 * the server asked for a wait longer than the policy allows.
 */
export function retryWait(
  retry: number,
  policy: RetryPolicy,
  random: number,
  retryAfterMs: number | undefined,
): number | undefined {
  if (retry >= policy.maxAttempts) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs > policy.maxRetryAfterMs ? undefined : retryAfterMs;
  return backoffDelay(retry, policy, random);
}
