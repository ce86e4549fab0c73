import { PolypackError, type ErrorCode } from "../errors/index.js";
import type { HttpRequest } from "./message.js";
import { redactUrl } from "./redact.js";

// Connection failures: the request may not have reached the server, or its answer was cut off.
const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EAI_NONAME",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);
// A name that does not resolve stays unresolved a second later; EAI_AGAIN is DNS saying "try again".
const PERMANENT_CODES = new Set(["ENOTFOUND", "EAI_NONAME", "EAI_FAIL"]);

/** The failures the generic layers detect; each client gives them its own stable codes. */
export type HttpFailure = "unavailable" | "tls-untrusted" | "tls-failed" | "protocol";

/** What an HttpError carries besides code and message. */
export interface HttpErrorFields {
  /** HTTP status, absent when no response arrived. */
  status?: number;
  /** The request URL without credentials. */
  url: string;
  /** Whether trying again may help. */
  temporary?: boolean;
  /** How long the server asked us to wait, from Retry-After. */
  retryAfterMs?: number;
  hint?: string;
  cause?: unknown;
}

/**
 * A failed HTTP exchange; `temporary` (5xx, 429, 408, dropped connections, timeouts) tells the
 * retry layers whether to try again.
 */
export class HttpError extends PolypackError {
  /** HTTP status, absent when no response arrived. */
  readonly status: number | undefined;
  /** The request URL without credentials. */
  readonly url: string;
  /** How long the server asked us to wait, from Retry-After. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, fields: HttpErrorFields) {
    super(code, message, { hint: fields.hint, cause: fields.cause, temporary: fields.temporary });
    this.name = "HttpError";
    this.status = fields.status;
    this.url = fields.url;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** Makes the error a client reports for a failure the generic layers found. */
export type ErrorFactory = (failure: HttpFailure, message: string, fields: HttpErrorFields) => HttpError;

/** Whether a status is worth retrying. */
export function isTemporaryStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Whether an error is an HttpError that may pass when tried again. */
export function isTemporary(error: unknown): error is HttpError {
  return error instanceof HttpError && error.temporary;
}

/** The error an idle connection ends with; ETIMEDOUT makes it a (temporary) connection failure. */
export function idleTimeoutError(timeoutMs: number, phase: "answer" | "data"): Error {
  return Object.assign(new Error(`no ${phase} within ${timeoutMs} ms`), { code: "ETIMEDOUT" });
}

/** Whether a thrown value is a connection that stayed silent too long. */
export function isIdleTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ETIMEDOUT";
}

/** Whether a thrown value is a connection failure rather than a bug or a refusal. */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NETWORK_ERROR_CODES.has(code);
}

/**
 * Wraps a connection failure (reset, refused, timeout, unknown host) as the client's "unavailable"
 * error: temporary, except for a host name that does not resolve.
 */
export function networkError(
  error: unknown,
  request: Pick<HttpRequest, "method" | "url">,
  create: ErrorFactory,
): HttpError {
  const url = redactUrl(request.url);
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && PERMANENT_CODES.has(code)) {
    return create(
      "unavailable",
      `cannot reach ${url} (${request.method}): the host name ${request.url.hostname} does not resolve`,
      {
        url,
        cause: error,
        hint: "check the host name for typos, and the DNS settings of this machine",
      },
    );
  }
  return create("unavailable", `cannot reach ${url} (${request.method}): ${reason}`, {
    url,
    temporary: true,
    cause: error,
    hint: "check the address and the network",
  });
}
