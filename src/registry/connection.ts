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
import { PolypackError } from "../errors.js";
import { isNamedInsecure } from "./address.js";
import { isNetworkError, networkError } from "./errors.js";
import type { RegistryRequest, Send } from "./http.js";
import { tlsError, tlsFailureOf } from "./tls-errors.js";
import { probeTls, type TlsProbeResult } from "./tls-probe.js";

/** Options of the connection layer. */
export interface ConnectionOptions {
  /** A PEM file of extra certificate authorities to trust besides the system's. */
  caFile?: string;
  /** Give up on a reply that sends no headers, or pauses its body, for this long (default 5 minutes). */
  timeoutMs?: number;
  /** Hosts named insecure: their certificates are not verified, as Docker does for such registries. */
  insecure?: readonly string[];
}

/** The innermost request function and the connection pool behind it. */
export interface Connection {
  send: Send;
  /** One TLS handshake with the request's host, with the same trust settings as `send`. */
  probeTls: (request: Pick<RegistryRequest, "method" | "url">) => Promise<TlsProbeResult>;
  close(): Promise<void>;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PolypackError("CA_FILE_UNREADABLE", `cannot read the certificate authority file ${path}`, {
      cause: error,
    });
  }
}

/**
 * Keep-alive connection pools for http and https on Node's own client, which streams request and
 * response bodies with backpressure and starts in a few milliseconds (a command that finds
 * everything already pushed is done in well under a second).
 */
export function createConnection(options: ConnectionOptions = {}): Connection {
  const timeout = options.timeoutMs ?? 300_000;
  const ca = options.caFile ? [...rootCertificates, readCaFile(options.caFile)] : undefined;
  const http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}) });
  const verifies = (url: URL): boolean => !isNamedInsecure(url.host, options.insecure);

  const send: Send = async (req) => {
    const body = typeof req.body === "function" ? await req.body() : req.body;
    const secure = req.url.protocol === "https:";
    try {
      const response = await exchange(req, body, secure ? https : http, timeout, verifies(req.url));
      return { status: response.statusCode ?? 0, headers: response.headers, body: response, url: req.url };
    } catch (error) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      const tls = secure ? tlsFailureOf(error) : undefined;
      if (tls) throw tlsError(tls, req, error);
      if (isNetworkError(error)) throw networkError(error, req);
      throw error;
    }
  };
  return {
    send,
    // A handshake needs no five minutes; a stalled one should not hold the first request that long.
    probeTls: (request) =>
      probeTls(request, {
        ...(ca ? { ca } : {}),
        verify: verifies(request.url),
        timeoutMs: Math.min(timeout, 30_000),
      }),
    close: () => {
      http.destroy();
      https.destroy();
      return Promise.resolve();
    },
  };
}

/** Sends one request and resolves with the response headers; the body streams afterwards. */
function exchange(
  req: RegistryRequest,
  body: Buffer | NodeJS.ReadableStream | undefined,
  agent: HttpAgent,
  timeout: number,
  verify: boolean,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = req.url.protocol === "https:";
    const client: ClientRequest = (secure ? httpsRequest : httpRequest)(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      agent,
      // The agent keeps verified and unverified connections in separate pools.
      ...(secure ? { rejectUnauthorized: verify } : {}),
    });
    client.setTimeout(timeout, () => {
      client.destroy(Object.assign(new Error(`no answer within ${timeout} ms`), { code: "ETIMEDOUT" }));
    });
    client.once("response", resolve);
    client.once("error", reject);
    if (body === undefined) client.end();
    else if (Buffer.isBuffer(body)) client.end(body);
    else pipeline(body, client, (error) => error && client.destroy(error));
  });
}
