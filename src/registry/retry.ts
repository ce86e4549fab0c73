import { discard, header, isReplayable, type Send } from "./http.js";
import { isTemporary, isTemporaryStatus } from "./errors.js";
import { parseRetryAfter, retryWait, type Clock, type RetryPolicy } from "./retry-policy.js";

/**
 * Retries requests that failed for a passing reason: 408, 429 and 5xx answers and dropped or timed
 * out connections. Only requests whose body can be sent again are retried; the last answer or
 * error is passed on unchanged.
 */
export function withRetry(send: Send, policy: RetryPolicy, clock: Clock): Send {
  return async (request) => {
    const canRetry = request.retryable !== false && isReplayable(request.body);
    for (let attempt = 1; ; attempt++) {
      let wait: number | undefined;
      try {
        const response = await send(request);
        if (!canRetry || !isTemporaryStatus(response.status)) return response;
        const retryAfter = header(response, "retry-after");
        const retryAfterMs = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, clock.now());
        wait = retryWait(attempt, policy, clock.random(), retryAfterMs);
        if (wait === undefined) return response;
        await discard(response);
      } catch (error) {
        if (!canRetry || !isTemporary(error)) throw error;
        wait = retryWait(attempt, policy, clock.random(), error.retryAfterMs);
        if (wait === undefined) throw error;
      }
      await clock.sleep(wait);
    }
  };
}

/**
 * Runs a whole operation again (for example an upload from a fresh session) while it fails with
 * a temporary RegistryError, with the same backoff as single requests.
 */
export async function retrying<T>(
  policy: RetryPolicy,
  clock: Clock,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isTemporary(error)) throw error;
      const wait = retryWait(attempt, policy, clock.random(), error.retryAfterMs);
      if (wait === undefined) throw error;
      await clock.sleep(wait);
    }
  }
}
