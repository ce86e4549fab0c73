import type { ErrorCode } from "../errors/index.js";
import { abandon, header, readBody, type HttpResponse } from "../http/message.js";
import {
  HttpError,
  isTemporaryStatus,
  networkError as httpNetworkError,
  type ErrorFactory,
  type HttpFailure,
} from "../http/errors.js";
import { redactUrl } from "../http/redact.js";
import { parseRetryAfter } from "../http/retry-policy.js";
import type { RegistryRequest } from "./http.js";

export { isNetworkError, isTemporary, isTemporaryStatus } from "../http/errors.js";

const ERROR_BODY_CAP = 64 * 1024;
const NOT_FOUND_CODES = new Set(["MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"]);

/** One entry of the `errors` array a registry sends with a failure. */
export interface RegistryErrorDetail {
  code: string;
  message?: string;
}

/**
 * A failed registry request. `code` is polypack's stable code (REGISTRY_UNAUTHORIZED, REGISTRY_DENIED,
 * REGISTRY_NOT_FOUND, REGISTRY_UNAVAILABLE or REGISTRY_ERROR); `registryCodes` are the registry's own
 * codes such as MANIFEST_UNKNOWN; `temporary` says whether trying again may help.
 */
export class RegistryError extends HttpError {
  /** The registry's error codes from the JSON body. */
  readonly registryCodes: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    fields: {
      status?: number;
      registryCodes?: readonly string[];
      url: string;
      temporary?: boolean;
      retryAfterMs?: number;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(code, message, fields);
    this.name = "RegistryError";
    this.registryCodes = fields.registryCodes ?? [];
  }
}

const REGISTRY_CODES: Record<HttpFailure, ErrorCode> = {
  unavailable: "REGISTRY_UNAVAILABLE",
  "tls-untrusted": "REGISTRY_TLS_UNTRUSTED",
  "tls-failed": "REGISTRY_TLS_FAILED",
  protocol: "REGISTRY_ERROR",
};

/** How the registry client names the failures of the generic HTTP layers. */
export const registryErrors: ErrorFactory = (failure, message, fields) =>
  new RegistryError(REGISTRY_CODES[failure], message, fields);

function classify(status: number, codes: readonly string[]): { code: ErrorCode; hint?: string } {
  if (status === 401 || codes.includes("UNAUTHORIZED")) {
    return { code: "REGISTRY_UNAUTHORIZED", hint: "check the credentials for this registry (docker login)" };
  }
  if (status === 403 || codes.includes("DENIED")) {
    return { code: "REGISTRY_DENIED", hint: "the credentials lack permission for this repository" };
  }
  if (status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) return { code: "REGISTRY_NOT_FOUND" };
  if (isTemporaryStatus(status) || codes.includes("TOOMANYREQUESTS")) return { code: "REGISTRY_UNAVAILABLE" };
  return { code: "REGISTRY_ERROR" };
}

function parseDetails(body: Buffer): RegistryErrorDetail[] {
  try {
    const json = JSON.parse(body.toString("utf8")) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors.flatMap((e: unknown) => {
      const entry = e as { code?: unknown; message?: unknown };
      if (typeof entry?.code !== "string") return [];
      return [{ code: entry.code, ...(typeof entry.message === "string" ? { message: entry.message } : {}) }];
    });
  } catch {
    return [];
  }
}

/** Turns an unexpected response into a RegistryError, reading at most 64 KiB of its body. */
export async function errorFromResponse(
  response: HttpResponse,
  request: Pick<RegistryRequest, "method" | "url">,
  what: string,
  now: number = Date.now(),
): Promise<RegistryError> {
  let details: RegistryErrorDetail[] = [];
  if (request.method !== "HEAD") {
    details = parseDetails(
      await readBody(response, ERROR_BODY_CAP, "error body").catch(() => Buffer.alloc(0)),
    );
  } else {
    abandon(response);
  }
  const codes = details.map((d) => d.code);
  const { code, hint } = classify(response.status, codes);
  const said = details.map((d) => (d.message ? `${d.code}: ${d.message}` : d.code)).join("; ");
  const url = redactUrl(request.url);
  const message = `${what}: the registry answered ${response.status}${said ? ` (${said})` : ""} to ${request.method} ${url}`;
  const retryAfter = header(response, "retry-after");
  return new RegistryError(code, message, {
    status: response.status,
    registryCodes: codes,
    url,
    temporary: code === "REGISTRY_UNAVAILABLE",
    retryAfterMs: retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, now),
    hint,
  });
}

/** Wraps a connection failure (reset, refused, timeout, unknown host) as REGISTRY_UNAVAILABLE. */
export function networkError(
  error: unknown,
  request: Pick<RegistryRequest, "method" | "url">,
): RegistryError {
  return httpNetworkError(error, request, registryErrors) as RegistryError;
}
