import { polypackVersion } from "../version.js";
import type { HttpRequest, Send } from "./message.js";
import { redactHeaders, redactUrl } from "./redact.js";

/** One HTTP exchange as reported to a log hook; credentials are already redacted. */
export interface RequestLogEvent {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  status?: number;
  responseHeaders?: Record<string, string>;
  error?: string;
  durationMs: number;
}

/** Reports every exchange to `log` with Authorization, cookies and token parameters redacted. */
export function withLogging<R extends HttpRequest>(
  send: Send<R>,
  log: (event: RequestLogEvent) => void,
  now: () => number = Date.now,
): Send<R> {
  return async (request) => {
    const started = now();
    const base = {
      method: request.method,
      url: redactUrl(request.url),
      requestHeaders: redactHeaders(request.headers ?? {}),
    };
    try {
      const response = await send(request);
      log({
        ...base,
        status: response.status,
        responseHeaders: redactHeaders(response.headers),
        durationMs: now() - started,
      });
      return response;
    } catch (error) {
      log({
        ...base,
        error: error instanceof Error ? error.message : String(error),
        durationMs: now() - started,
      });
      throw error;
    }
  };
}

/** Sets the User-Agent header on every request. */
export function withUserAgent<R extends HttpRequest>(send: Send<R>, userAgent: string): Send<R> {
  return (request) => send({ ...request, headers: { ...request.headers, "user-agent": userAgent } });
}

/** `polypack/<version>`. */
export function defaultUserAgent(): string {
  return `polypack/${polypackVersion()}`;
}
