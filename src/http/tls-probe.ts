import { isIP } from "node:net";
import { connect } from "node:tls";
import { isNetworkError, networkError, type ErrorFactory } from "./errors.js";
import type { HttpRequest } from "./message.js";
import { tlsError, tlsFailureOf } from "./tls-errors.js";

/** What one TLS handshake with a server showed: it speaks TLS, or it answered in plain text. */
export type TlsProbeResult = "tls" | "plaintext";

/** The trust settings of a handshake, the same the connection pool uses. */
export interface TlsProbeOptions {
  /** Certificate authorities to trust; the system's when absent. */
  ca?: readonly string[];
  /** Whether the certificate must be valid for the host (false only for hosts named insecure). */
  verify: boolean;
  /** Give up on a handshake that stalls this long. */
  timeoutMs: number;
  /** Names the failures (REGISTRY_TLS_UNTRUSTED, ...). */
  errors: ErrorFactory;
}

/**
 * Opens one TLS connection to the request's host and port, completes the handshake and closes it.
 * Resolves "plaintext" when the server does not speak TLS there; throws the "tls-untrusted" or
 * "tls-failed" error for other TLS failures and "unavailable" when the host cannot be reached.
 */
export function probeTls(
  request: Pick<HttpRequest, "method" | "url">,
  options: TlsProbeOptions,
): Promise<TlsProbeResult> {
  const hostname = request.url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    let connected = false;
    const socket = connect({
      host: hostname,
      port: Number(request.url.port || 443),
      // SNI carries names only; an address in it is against the spec and Node warns about it.
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
      ...(options.ca ? { ca: [...options.ca] } : {}),
      rejectUnauthorized: options.verify,
    });
    socket.once("connect", () => (connected = true));
    socket.setTimeout(options.timeoutMs, () => {
      const message = `no TLS handshake within ${options.timeoutMs} ms`;
      socket.destroy(Object.assign(new Error(message), { code: "ETIMEDOUT" }));
    });
    socket.once("secureConnect", () => {
      socket.destroy();
      resolve("tls");
    });
    socket.once("error", (error: Error) => {
      socket.destroy();
      const failure = tlsFailureOf(error, connected);
      if (failure === "plaintext") resolve("plaintext");
      else if (failure) reject(tlsError(failure, request, error, options.errors));
      else reject(isNetworkError(error) ? networkError(error, request, options.errors) : error);
    });
  });
}
