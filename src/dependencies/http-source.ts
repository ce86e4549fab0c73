import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { isNetworkError } from "../registry/errors.js";
import { redactUrl } from "../registry/redact.js";
import { failure, reason } from "./failure.js";

/** How `openHttp` talks to servers. */
export interface HttpSourceOptions {
  /** The undici dispatcher (connection pool, connect timeout), made on first use. */
  dispatcher: () => Promise<Dispatcher>;
  /** Give up on a server that sends no headers, or pauses its body, for this long. */
  idleTimeoutMs: number;
  /** Cap on redirects followed. */
  maxRedirects: number;
  userAgent: string;
}

/** A response body ready to read, with its announced length when the server gave one. */
export interface OpenedSource {
  stream: Readable;
  size?: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** Whether a thrown value is undici giving up on a silent server. */
export function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && TIMEOUT_CODES.has(code);
}

/**
 * GETs `url`, following up to `maxRedirects` redirects by hand so that credentials written into the
 * URL (sent as Basic auth) never follow a redirect to another origin. Failures carry no dependency
 * name yet; connection failures and 5xx/429 answers are marked transient.
 */
export async function openHttp(original: URL, options: HttpSourceOptions): Promise<OpenedSource> {
  const authorization = basicAuthorization(original);
  let url = withoutCredentials(original);
  for (let hops = 0; ; hops++) {
    const sameOrigin = url.origin === original.origin;
    const headers: Record<string, string> = { "user-agent": options.userAgent, accept: "*/*" };
    if (authorization !== undefined && sameOrigin) headers["authorization"] = authorization;
    const response = await send(url, headers, options);
    const where = url.href === withoutCredentials(original).href ? "" : ` (redirected to ${redactUrl(url)})`;
    const location = response.headers["location"];
    if (REDIRECT_STATUSES.has(response.statusCode) && typeof location === "string") {
      await response.body.dump().catch(() => undefined);
      const target = new URL(location, url);
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        throw failure("DEPENDENCY_DOWNLOAD_FAILED", `redirected to a ${target.protocol} URL${where}`);
      }
      if (hops >= options.maxRedirects) {
        throw failure("DEPENDENCY_DOWNLOAD_FAILED", `more than ${options.maxRedirects} redirects`);
      }
      url = target;
      continue;
    }
    if (response.statusCode < 200 || response.statusCode > 299) {
      await response.body.dump().catch(() => undefined);
      const status = response.statusCode;
      throw failure("DEPENDENCY_DOWNLOAD_FAILED", `the server answered HTTP ${status}${where}`, {
        transient: status >= 500 || status === 429,
      });
    }
    const length = Number(response.headers["content-length"]);
    return {
      stream: response.body,
      ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
    };
  }
}

async function send(
  url: URL,
  headers: Record<string, string>,
  options: HttpSourceOptions,
): Promise<Dispatcher.ResponseData> {
  try {
    // Loaded on first download only: commands that download nothing start faster without it.
    const { request } = await import("undici");
    return await request(url, {
      method: "GET",
      headers,
      dispatcher: await options.dispatcher(),
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
    });
  } catch (error) {
    const detail = isTimeout(error)
      ? `no answer from ${url.host} within ${options.idleTimeoutMs} ms`
      : `cannot reach ${url.host}: ${reason(error)}`;
    throw failure("DEPENDENCY_DOWNLOAD_FAILED", detail, {
      transient: isNetworkError(error) || isTimeout(error),
      cause: error,
    });
  }
}

function basicAuthorization(url: URL): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(user).toString("base64")}`;
}

function withoutCredentials(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy;
}
