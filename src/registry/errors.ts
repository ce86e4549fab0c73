import { PolypackError } from "../errors.js";
import { abandon, header, readBody, type RegistryRequest, type RegistryResponse } from "./http.js";
import { redactUrl } from "./redact.js";
import { parseRetryAfter } from "./retry-policy.js";

const ERROR_BODY_CAP = 64 * 1024;
const NOT_FOUND_CODES = new Set(["MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"]);
const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

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
export class RegistryError extends PolypackError {
  /** HTTP status, absent when no response arrived. */
  readonly status: number | undefined;
  /** The registry's error codes from the JSON body. */
  readonly registryCodes: readonly string[];
  /** The request URL without credentials. */
  readonly url: string;
  /** Whether the failure may pass (5xx, 429, 408, dropped connections, timeouts). */
  readonly temporary: boolean;
  /** How long the registry asked us to wait, from Retry-After. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
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
    super(code, message, { hint: fields.hint, cause: fields.cause });
    this.name = "RegistryError";
    this.status = fields.status;
    this.registryCodes = fields.registryCodes ?? [];
    this.url = fields.url;
    this.temporary = fields.temporary ?? false;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** Whether a status is worth retrying. */
export function isTemporaryStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Whether an error is a RegistryError that may pass when tried again. */
export function isTemporary(error: unknown): error is RegistryError {
  return error instanceof RegistryError && error.temporary;
}

function classify(status: number, codes: readonly string[]): { code: string; hint?: string } {
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
  response: RegistryResponse,
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

/** Whether a thrown value is a connection failure rather than a bug or a refusal. */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && NETWORK_ERROR_CODES.has(code);
}

/** Wraps a connection failure (reset, refused, timeout) as a temporary REGISTRY_UNAVAILABLE. */
export function networkError(
  error: unknown,
  request: Pick<RegistryRequest, "method" | "url">,
): RegistryError {
  const url = redactUrl(request.url);
  const reason = error instanceof Error ? error.message : String(error);
  return new RegistryError("REGISTRY_UNAVAILABLE", `cannot reach ${url} (${request.method}): ${reason}`, {
    url,
    temporary: true,
    cause: error,
    hint: "check the registry address and the network",
  });
}
