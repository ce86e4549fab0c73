import type { CredentialProvider } from "./credentials/types.js";
import { withAuth } from "./auth.js";
import { createConnection } from "./connection.js";
import type { Send } from "./http.js";
import { defaultUserAgent, withLogging, withUserAgent, type RequestLogEvent } from "./logging.js";
import { DEFAULT_MAX_REDIRECTS, withRedirects } from "./redirect.js";
import { withRetry } from "./retry.js";
import { DEFAULT_RETRY_POLICY, systemClock, type Clock, type RetryPolicy } from "./retry-policy.js";
import { withSchemeSelection } from "./scheme.js";

/** Everything that shapes how requests travel. */
export interface TransportOptions {
  /** Where credentials come from; none means anonymous. */
  credentials?: CredentialProvider;
  /**
   * Registry hosts (with port) that may fall back to plain HTTP and whose certificates are not
   * verified. Loopback hosts may fall back too, but their certificates are verified.
   */
  insecure?: readonly string[];
  /** A PEM file of extra certificate authorities. */
  caFile?: string;
  /** Header and idle-body timeout in milliseconds. */
  timeoutMs?: number;
  /** Overrides `polypack/<version>`. */
  userAgent?: string;
  /** Receives each HTTP exchange, redacted. */
  log?: (event: RequestLogEvent) => void;
  /** Overrides parts of the retry policy. */
  retry?: Partial<RetryPolicy>;
  /** Time source for backoff and token expiry; tests inject one that does not wait. */
  clock?: Clock;
  /** Cap on redirects per request. */
  maxRedirects?: number;
}

/** The assembled stack and what its users need to share with it. */
export interface Transport {
  send: Send;
  clock: Clock;
  retryPolicy: RetryPolicy;
  insecure: readonly string[];
  close(): Promise<void>;
}

/**
 * Builds the request stack, outermost first: retry, redirects, scheme selection, auth handshake,
 * user agent, logging, connection. Token requests skip the retry, redirect, scheme and auth layers
 * (the outer retry covers them, and a token realm names its own scheme).
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const clock = options.clock ?? systemClock;
  const retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const insecure = options.insecure ?? [];
  const connection = createConnection({ caFile: options.caFile, timeoutMs: options.timeoutMs, insecure });
  let inner: Send = connection.send;
  if (options.log) inner = withLogging(inner, options.log, () => clock.now());
  inner = withUserAgent(inner, options.userAgent ?? defaultUserAgent());
  const authed = withAuth(inner, {
    credentials: options.credentials,
    insecure,
    tokenSend: inner,
    now: () => clock.now(),
  });
  // Above auth, so that auth sees the URL that is really used (it refuses credentials over plain
  // HTTP to remote hosts), and below redirects, so that a redirect to another local host is probed.
  const chosen = withSchemeSelection(authed, { insecure, probe: connection.probeTls });
  const send = withRetry(
    withRedirects(chosen, options.maxRedirects ?? DEFAULT_MAX_REDIRECTS),
    retryPolicy,
    clock,
  );
  return { send, clock, retryPolicy, insecure, close: () => connection.close() };
}
