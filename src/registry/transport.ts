import type { CredentialProvider } from "./credentials/types.js";
import { withAuth } from "./auth.js";
import { isNamedInsecure } from "./address.js";
import { registryErrors } from "./errors.js";
import type { RegistryRequest, RegistrySend } from "./http.js";
import type { RequestLogEvent } from "../http/logging.js";
import { systemClock, type Clock, type RetryPolicy } from "../http/retry-policy.js";
import { createHttpStack } from "../http/stack.js";
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
  /** Idle timeout in milliseconds: connect, headers, and pauses in a body (default 60 s). */
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
  send: RegistrySend;
  clock: Clock;
  retryPolicy: RetryPolicy;
  insecure: readonly string[];
  close(): Promise<void>;
}

/**
 * Builds the registry's request stack on the shared HTTP stack (`src/http`), outermost first:
 * retry, redirects, scheme selection, auth handshake, user agent, logging, connection. Token
 * requests skip the retry, redirect, scheme and auth layers (the outer retry covers them, and a
 * token realm names its own scheme).
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const insecure = options.insecure ?? [];
  const clock = options.clock ?? systemClock;
  const stack = createHttpStack<RegistryRequest>({
    errors: registryErrors,
    verify: (url) => !isNamedInsecure(url.host, insecure),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    clock,
    ...(options.maxRedirects !== undefined ? { maxRedirects: options.maxRedirects } : {}),
    around: (inner, connection) => {
      const authed = withAuth(inner, {
        credentials: options.credentials,
        insecure,
        tokenSend: inner,
        now: () => clock.now(),
      });
      // Above auth, so that auth sees the URL that is really used (it refuses credentials over plain
      // HTTP to remote hosts), and below redirects, so that a redirect to another local host is probed.
      return withSchemeSelection(authed, { insecure, probe: connection.probeTls });
    },
  });
  return { send: stack.send, clock, retryPolicy: stack.retryPolicy, insecure, close: () => stack.close() };
}
