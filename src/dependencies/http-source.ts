import type { Readable } from "node:stream";
import { HttpError, type ErrorFactory } from "../http/errors.js";
import { abandon, discard, header, type HttpRequest } from "../http/message.js";
import { redactUrl } from "../http/redact.js";
import type { HttpStack } from "../http/stack.js";
import { cappedBody, downloadTooLarge } from "./download-cap.js";
import { failure } from "./failure.js";

/** How `openHttp` talks to servers. */
export interface HttpSourceOptions {
  /** The shared HTTP stack (connection pool, idle timeout, redirects), made on first use. */
  stack: () => Promise<HttpStack<HttpRequest>>;
  /** The idle timeout the stack was made with, for messages. */
  idleTimeoutMs: number;
  /**
   * The most bytes a body may have (see maxDownloadBytes): a larger Content-Length fails before the
   * body is read, and a body without one is stopped as soon as it passes the cap.
   */
  maxBytes: number;
}

/** A response body ready to read, with its announced length when the server gave one. */
export interface OpenedSource {
  stream: Readable;
  size?: number;
  /** The response's validators, for a later conditional request (see `Validators`). */
  validators?: Validators;
}

/** What a server said identifies a response's content: its ETag and Last-Modified headers. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** `openHttp`'s answer to a conditional request whose content has not changed (HTTP 304). */
export interface NotModified {
  notModified: true;
}

/**
 * How dependency downloads name the failures of the HTTP stack: all DEPENDENCY_DOWNLOAD_FAILED,
 * connection failures marked temporary so that the download is tried again.
 */
export const downloadErrors: ErrorFactory = (_failure, message, fields) =>
  new HttpError("DEPENDENCY_DOWNLOAD_FAILED", message, fields);

/**
 * GETs `url` through the shared HTTP stack, whose redirect layer drops the credentials written into
 * the URL (sent as Basic auth) once a redirect leaves their origin. Failures carry no dependency
 * name yet; connection failures and 5xx/429 answers are marked transient. A body over
 * `options.maxBytes` fails with SIZE_EXCEEDED (not transient), by its Content-Length or as it streams.
 */
export async function openHttp(original: URL, options: HttpSourceOptions): Promise<OpenedSource>;
/**
 * The same GET made conditional on `validators` (If-None-Match, If-Modified-Since): a server whose
 * content has not changed answers 304, returned as NotModified.
 */
export async function openHttp(
  original: URL,
  options: HttpSourceOptions,
  validators: Validators,
): Promise<OpenedSource | NotModified>;
export async function openHttp(
  original: URL,
  options: HttpSourceOptions,
  validators?: Validators,
): Promise<OpenedSource | NotModified> {
  const authorization = basicAuthorization(original);
  const url = withoutCredentials(original);
  const stack = await options.stack();
  const response = await stack.send({
    method: "GET",
    url,
    headers: {
      accept: "*/*",
      ...(authorization === undefined ? {} : { authorization }),
      ...(validators?.etag !== undefined ? { "if-none-match": validators.etag } : {}),
      ...(validators?.lastModified !== undefined ? { "if-modified-since": validators.lastModified } : {}),
    },
  });
  const where = response.url.href === url.href ? "" : ` (redirected to ${redactUrl(response.url)})`;
  if (response.status === 304 && validators !== undefined) {
    await discard(response);
    return { notModified: true };
  }
  if (response.status < 200 || response.status > 299) {
    // Dropped unread, not drained: an error page that never ends would hold the run forever.
    abandon(response);
    const status = response.status;
    throw failure("DEPENDENCY_DOWNLOAD_FAILED", `the server answered HTTP ${status}${where}`, {
      transient: status >= 500 || status === 429,
    });
  }
  const length = Number(response.headers["content-length"]);
  if (length > options.maxBytes) {
    abandon(response);
    throw downloadTooLarge(options.maxBytes, length);
  }
  const etag = header(response, "etag");
  const lastModified = header(response, "last-modified");
  return {
    stream: cappedBody(response.body, options.maxBytes),
    ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
    validators: {
      ...(etag !== undefined ? { etag } : {}),
      ...(lastModified !== undefined ? { lastModified } : {}),
    },
  };
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
