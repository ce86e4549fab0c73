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
import { isNetworkError, networkError } from "./errors.js";
import type { RegistryRequest, Send } from "./http.js";

/** Options of the connection layer. */
export interface ConnectionOptions {
  /** A PEM file of extra certificate authorities to trust besides the system's. */
  caFile?: string;
  /** Give up on a reply that sends no headers, or pauses its body, for this long (default 5 minutes). */
  timeoutMs?: number;
}

/** The innermost request function and the connection pool behind it. */
export interface Connection {
  send: Send;
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
  const http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const https = new HttpsAgent({
    keepAlive: true,
    maxSockets: 16,
    ...(options.caFile ? { ca: [...rootCertificates, readCaFile(options.caFile)] } : {}),
  });

  const send: Send = async (req) => {
    const body = typeof req.body === "function" ? await req.body() : req.body;
    try {
      const response = await exchange(req, body, req.url.protocol === "https:" ? https : http, timeout);
      return { status: response.statusCode ?? 0, headers: response.headers, body: response, url: req.url };
    } catch (error) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      if (isNetworkError(error)) throw networkError(error, req);
      throw error;
    }
  };
  return {
    send,
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
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client: ClientRequest = (req.url.protocol === "https:" ? httpsRequest : httpRequest)(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      agent,
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
