import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Send } from "./http.js";
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
export function withLogging(
  send: Send,
  log: (event: RequestLogEvent) => void,
  now: () => number = Date.now,
): Send {
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
export function withUserAgent(send: Send, userAgent: string): Send {
  return (request) => send({ ...request, headers: { ...request.headers, "user-agent": userAgent } });
}

let cachedUserAgent: string | undefined;

/** `polypack/<version>`, the version read once from the package's own package.json. */
export function defaultUserAgent(): string {
  if (cachedUserAgent) return cachedUserAgent;
  let version = "unknown";
  let dir = dirname(fileURLToPath(import.meta.url));
  // The compiled module sits a few folders below package.json, at a depth that depends on the build.
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (!existsSync(candidate)) continue;
    const json = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown; version?: unknown };
    if (json.name === "polypack" && typeof json.version === "string") {
      version = json.version;
      break;
    }
  }
  cachedUserAgent = `polypack/${version}`;
  return cachedUserAgent;
}
