import { readFileSync } from "node:fs";
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { pipeline } from "node:stream";
import { rootCertificates } from "node:tls";
import { PolypackError } from "../errors/index.js";
import { idleTimeoutError, isNetworkError, networkError, type ErrorFactory } from "./errors.js";
import type { HttpRequest, Send } from "./message.js";
import { tlsError, tlsFailureOf } from "./tls-errors.js";
import { probeTls, type TlsProbeResult } from "./tls-probe.js";

/** How long a connection may stay silent by default: no connect, no headers, or a paused body. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Options of the connection layer. */
export interface ConnectionOptions {
  /** A PEM file of extra certificate authorities to trust besides the system's. */
  caFile?: string;
  /**
   * Give up on a connection that stays silent this long: while connecting, waiting for the headers,
   * or between two pieces of the body (default 60 s).
   */
  timeoutMs?: number;
  /** Whether a URL's certificate must be verified (default: always); false only for hosts named insecure. */
  verify?: (url: URL) => boolean;
  /** Names connection and TLS failures in the client's terms. */
  errors: ErrorFactory;
}

/** The innermost request function and the connection pool behind it. */
export interface Connection {
  send: Send;
  /** One TLS handshake with the request's host, with the same trust settings as `send`. */
  probeTls: (request: Pick<HttpRequest, "method" | "url">) => Promise<TlsProbeResult>;
  close(): Promise<void>;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PolypackError("PATH_UNREADABLE", `cannot read the certificate authority file ${path}`, {
      cause: error,
    });
  }
}

/**
 * Keep-alive connection pools for http and https on Node's own client, which streams request and
 * response bodies with backpressure and starts in a few milliseconds (a command that finds
 * everything already pushed is done in well under a second).
 */
export function createConnection(options: ConnectionOptions): Connection {
  const timeout = options.timeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const ca = options.caFile ? [...rootCertificates, readCaFile(options.caFile)] : undefined;
  const http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}) });
  const verifies = options.verify ?? (() => true);

  const send: Send = async (req) => {
    const body = typeof req.body === "function" ? await req.body() : req.body;
    const secure = req.url.protocol === "https:";
    // A body that fails (a source blob whose digest or size is wrong) is the source's fault; the
    // broken connection that follows is only its consequence and must not be reported instead.
    let bodyError: Error | undefined;
    if (body && !Buffer.isBuffer(body)) {
      body.once("error", (error: Error) => (bodyError ??= isSourceFailure(error) ? error : undefined));
    }
    try {
      const response = await exchange(req, body, secure ? https : http, timeout, verifies(req.url));
      if (bodyError !== undefined) {
        response.destroy();
        throw bodyError;
      }
      return { status: response.statusCode ?? 0, headers: response.headers, body: response, url: req.url };
    } catch (error) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      if (bodyError !== undefined) throw bodyError;
      const tls = secure ? tlsFailureOf(error) : undefined;
      if (tls) throw tlsError(tls, req, error, options.errors);
      if (isNetworkError(error)) throw networkError(error, req, options.errors);
      throw error;
    }
  };
  return {
    send,
    // A handshake needs no long wait; a stalled one should not hold the first request that long.
    probeTls: (request) =>
      probeTls(request, {
        ...(ca ? { ca } : {}),
        verify: verifies(request.url),
        timeoutMs: Math.min(timeout, 30_000),
        errors: options.errors,
      }),
    close: () => {
      http.destroy();
      https.destroy();
      return Promise.resolve();
    },
  };
}

/**
 * Whether an error of a request body is the body's own (a failed check, an unreadable file) rather
 * than the connection's, which tearing down the request passes on to the body as well.
 */
function isSourceFailure(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return !isNetworkError(error) && code !== "ERR_STREAM_PREMATURE_CLOSE" && code !== "ERR_STREAM_DESTROYED";
}

/**
 * Sends one request and resolves with the response headers; the body streams afterwards. The idle
 * timeout covers the whole exchange: a silent connect, a server that sends no headers, and a body
 * that pauses (the body stream then fails with the timeout error, so readers see why).
 */
function exchange(
  req: HttpRequest,
  body: Buffer | NodeJS.ReadableStream | undefined,
  agent: HttpAgent,
  timeout: number,
  verify: boolean,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = req.url.protocol === "https:";
    let response: IncomingMessage | undefined;
    const client: ClientRequest = (secure ? httpsRequest : httpRequest)(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      agent,
      // The agent keeps verified and unverified connections in separate pools.
      ...(secure ? { rejectUnauthorized: verify } : {}),
    });
    client.setTimeout(timeout, () => {
      const error = idleTimeoutError(timeout, response ? "data" : "answer");
      // Destroying the response with the reason, rather than only the request, keeps the reason:
      // otherwise its readers would see a bare "aborted".
      if (response && !response.destroyed) response.destroy(error);
      client.destroy(error);
    });
    client.once("response", (answer: IncomingMessage) => {
      response = answer;
      resolve(answer);
    });
    client.once("error", reject);
    if (body === undefined) client.end();
    else if (Buffer.isBuffer(body)) client.end(body);
    else pipeline(body, client, (error) => error && client.destroy(error));
  });
}
