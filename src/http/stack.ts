import { createConnection, type Connection } from "./connection.js";
import type { ErrorFactory } from "./errors.js";
import { defaultUserAgent, withLogging, withUserAgent, type RequestLogEvent } from "./logging.js";
import type { HttpRequest, Send } from "./message.js";
import { DEFAULT_MAX_REDIRECTS, withRedirects } from "./redirect.js";
import { withRetry } from "./retry.js";
import { DEFAULT_RETRY_POLICY, systemClock, type Clock, type RetryPolicy } from "./retry-policy.js";

/** Everything that shapes how requests travel, whoever sends them. */
export interface HttpStackOptions<R extends HttpRequest> {
  /** Names the failures the generic layers find, in the client's codes. */
  errors: ErrorFactory;
  /** A PEM file of extra certificate authorities. */
  caFile?: string;
  /** Whether a URL's certificate is verified (default: always). */
  verify?: (url: URL) => boolean;
  /** Idle timeout in milliseconds: connect, headers, and pauses in a body (default 60 s). */
  timeoutMs?: number;
  /** Overrides `polypack/<version>`. */
  userAgent?: string;
  /** Receives each HTTP exchange, redacted. */
  log?: (event: RequestLogEvent) => void;
  /** Overrides parts of the retry policy; false leaves retries to the caller (whole operations). */
  retry?: Partial<RetryPolicy> | false;
  /** Time source for backoff; tests inject one that does not wait. */
  clock?: Clock;
  /** Cap on redirects per request. */
  maxRedirects?: number;
  /**
   * The client's own layers, placed between redirects (outside) and the user agent (inside), e.g.
   * the registry's scheme selection and auth handshake. `inner` is the user agent, logging and
   * connection part, which such layers may also use for side requests (token requests).
   */
  around?: (inner: Send<R>, connection: Connection) => Send<R>;
}

/** An assembled stack and what its users need to share with it. */
export interface HttpStack<R extends HttpRequest> {
  send: Send<R>;
  clock: Clock;
  retryPolicy: RetryPolicy;
  close(): Promise<void>;
}

/**
 * Builds the request stack, outermost first: retry, redirects, the client's own layers, user agent,
 * logging, connection. Both the registry client and dependency downloads are built on it, so
 * there is one retry loop, one redirect loop and one place that opens connections.
 */
export function createHttpStack<R extends HttpRequest = HttpRequest>(
  options: HttpStackOptions<R>,
): HttpStack<R> {
  const clock = options.clock ?? systemClock;
  const retryPolicy = { ...DEFAULT_RETRY_POLICY, ...(options.retry || {}) };
  const connection = createConnection({
    errors: options.errors,
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.verify ? { verify: options.verify } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  let inner: Send<R> = connection.send;
  if (options.log) inner = withLogging(inner, options.log, () => clock.now());
  inner = withUserAgent(inner, options.userAgent ?? defaultUserAgent());
  const middle = options.around ? options.around(inner, connection) : inner;
  const redirected = withRedirects(middle, options.errors, options.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
  const send = options.retry === false ? redirected : withRetry(redirected, retryPolicy, clock);
  return { send, clock, retryPolicy, close: () => connection.close() };
}
