import { discard, header, isReplayable, type HttpRequest, type Send } from "./message.js";
import { isTemporary, isTemporaryStatus } from "./errors.js";
import { parseRetryAfter, retryWait, type Clock, type RetryPolicy } from "./retry-policy.js";

/**
 * Retries requests that failed for a passing reason: 408, 429 and 5xx answers and dropped or timed
 * out connections. Only requests whose body can be sent again are retried; the last answer or
 * error is passed on unchanged.
 */
export function withRetry<R extends HttpRequest>(send: Send<R>, policy: RetryPolicy, clock: Clock): Send<R> {
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
 * Runs a whole operation again (an upload from a fresh session, a download whose body broke off)
 * while it fails with an error `shouldRetry` accepts (by default a temporary HttpError), with the
 * same backoff as single requests.
 */
export async function retrying<T>(
  policy: RetryPolicy,
  clock: Clock,
  operation: (attempt: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean = isTemporary,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!shouldRetry(error)) throw error;
      const retryAfterMs = isTemporary(error) ? error.retryAfterMs : undefined;
      const wait = retryWait(attempt, policy, clock.random(), retryAfterMs);
      if (wait === undefined) throw error;
      await clock.sleep(wait);
    }
  }
}
