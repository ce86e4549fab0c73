import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Agent, request } from "undici";
import { PolypackError } from "../errors.js";
import { isNetworkError, networkError } from "./errors.js";
import type { Send } from "./http.js";

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

/** An undici Agent with keep-alive; every request goes through it. */
export function createConnection(options: ConnectionOptions = {}): Connection {
  const timeout = options.timeoutMs ?? 300_000;
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connect: options.caFile ? { ca: [...rootCertificates, readCaFile(options.caFile)] } : {},
  });
  const send: Send = async (req) => {
    const body = typeof req.body === "function" ? await req.body() : req.body;
    try {
      const response = await request(req.url, {
        dispatcher: agent,
        method: req.method,
        headers: req.headers ?? {},
        body: body ?? null,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body, url: req.url };
    } catch (error) {
      if (body && !Buffer.isBuffer(body)) body.destroy();
      if (isNetworkError(error)) throw networkError(error, req);
      throw error;
    }
  };
  return { send, close: () => agent.close() };
}
