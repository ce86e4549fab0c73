import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import { readCapped } from "../util/streams.js";

/** HTTP methods polypack sends. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * A request body. Buffers and factories can be sent again (a factory re-opens the stream), so only
 * those are retried; a bare stream is sent once.
 */
export type RequestBody = Buffer | (() => Promise<Readable>) | Readable;

/** One HTTP request as the wrappers of the stack see it. */
export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** False for writes that must not be repeated as they are, e.g. into an upload session. */
  retryable?: boolean;
  /** False once a redirect left the first origin: no credentials may be attached any more. */
  authorize?: boolean;
}

/** A response whose body the caller must read or discard. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The URL that answered (after redirects), for resolving relative Location headers. */
  url: URL;
}

/**
 * The one request function every wrapper takes and returns. Clients may add fields of their own
 * to the request (the registry adds token scopes); the generic wrappers pass them on.
 */
export type Send<R extends HttpRequest = HttpRequest> = (request: R) => Promise<HttpResponse>;

/** The first value of a response header, if any. */
export function header(response: Pick<HttpResponse, "headers">, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a body can be sent a second time. */
export function isReplayable(body: RequestBody | undefined): boolean {
  return body === undefined || Buffer.isBuffer(body) || typeof body === "function";
}

// How much of an ignored body is read so its connection can be reused; past it the connection is
// dropped instead, so an error page or redirect body that never ends cannot hold a run.
const DISCARD_READ_LIMIT = 64 * 1024;

/**
 * Throws away a response body: a short one is read to its end so the keep-alive connection can be
 * reused; one longer than 64 KiB is dropped with its connection (see abandon).
 */
export async function discard(response: HttpResponse): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of response.body) {
      read += (chunk as Uint8Array).length;
      if (read > DISCARD_READ_LIMIT) {
        abandon(response);
        return;
      }
    }
  } catch {
    // A broken body of a response we ignore does not matter.
  }
}

/** Drops a response body unread, closing its connection; the abort this causes is expected. */
export function abandon(response: HttpResponse): void {
  response.body.on("error", () => undefined);
  response.body.destroy();
}

/**
 * Reads a whole body with the one capped reader, failing with SIZE_EXCEEDED past `cap` bytes
 * (before reading when Content-Length says so); on any failure the connection is dropped.
 */
export async function readBody(response: HttpResponse, cap: number, context: string): Promise<Buffer> {
  const declared = Number(header(response, "content-length"));
  try {
    return await readCapped(response.body, cap, {
      declaredSize: Number.isFinite(declared) ? declared : undefined,
      tooLarge: () =>
        new PolypackError("SIZE_EXCEEDED", `${context} is larger than the ${cap} bytes polypack accepts`),
    });
  } catch (error) {
    abandon(response);
    throw error;
  }
}

/** The same request with extra headers. */
export function withHeaders<R extends HttpRequest>(request: R, headers: Record<string, string>): R {
  return { ...request, headers: { ...request.headers, ...headers } };
}
