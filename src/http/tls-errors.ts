import type { ErrorFactory, HttpError } from "./errors.js";
import type { HttpRequest } from "./message.js";
import { redactUrl } from "./redact.js";

/**
 * Why a TLS connection failed, when TLS was the reason: the certificate was not trusted, the server
 * answered in plain text (it does not speak TLS on that port), or the handshake failed otherwise.
 */
export type TlsFailure = "untrusted" | "plaintext" | "handshake";

// OpenSSL's certificate verification results, which Node reports as the error code.
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

// What OpenSSL says when the first bytes back are not a TLS record, e.g. an HTTP/1.1 400 answer.
const PLAINTEXT_PATTERN =
  /wrong version number|packet length too long|WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/;

/**
 * Classifies a connection error. `duringHandshake` says the TCP connection was open and the TLS
 * handshake had not finished, so that a reset means the server hung up on the handshake (as plain
 * servers do) rather than a broken connection later on.
 */
export function tlsFailureOf(error: unknown, duringHandshake = false): TlsFailure | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== "string") return undefined;
  if (UNTRUSTED_CODES.has(code)) return "untrusted";
  const text = `${code} ${typeof message === "string" ? message : ""}`;
  if ((code === "EPROTO" || code.startsWith("ERR_SSL_")) && PLAINTEXT_PATTERN.test(text)) return "plaintext";
  if (duringHandshake && code === "ECONNRESET") return "plaintext";
  if (code === "EPROTO" || code.startsWith("ERR_SSL_")) return "handshake";
  return undefined;
}

/**
 * The typed error for a TLS failure: the client's "tls-untrusted" code (REGISTRY_TLS_UNTRUSTED) for
 * certificates, "tls-failed" for the rest. Neither is temporary: trying again over the same
 * connection settings cannot help.
 */
export function tlsError(
  failure: TlsFailure,
  request: Pick<HttpRequest, "method" | "url">,
  cause: unknown,
  create: ErrorFactory,
): HttpError {
  const url = redactUrl(request.url);
  const host = request.url.host;
  const reason = cause instanceof Error ? cause.message.trim() : String(cause);
  if (failure === "untrusted") {
    return create(
      "tls-untrusted",
      `the TLS certificate of ${host} is not trusted (${reason}) on ${request.method} ${url}`,
      {
        url,
        cause,
        hint: `pass the certificate authority that signed it with --ca-file <pem>, or name ${host} with --insecure-registry if you trust the network`,
      },
    );
  }
  const plaintext = failure === "plaintext";
  return create(
    "tls-failed",
    plaintext
      ? `${host} did not answer in TLS on ${request.method} ${url}; it may speak plain HTTP`
      : `the TLS handshake with ${host} failed (${reason}) on ${request.method} ${url}`,
    {
      url,
      cause,
      hint: plaintext
        ? `name ${host} with --insecure-registry to allow plain HTTP, if you trust the network`
        : "check that the address points at the server's TLS port",
    },
  );
}
