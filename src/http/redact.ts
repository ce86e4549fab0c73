// Parts of a query parameter name that suggest its value is a secret. Matched anywhere in the
// lower-cased name with separators removed, so `X-Amz-Security-Token`, `api_key`, `apiKey`,
// `X-Goog-Credential` and `sig` are all caught. A harmless parameter caught too (`SignedHeaders`)
// costs only readability; a secret missed would be printed, so the list errs towards redaction.
const SECRET_NAME_PARTS = [
  "token",
  "secret",
  "signature",
  "sig",
  "credential",
  "cred",
  "key",
  "password",
  "passwd",
  "pwd",
  "pass",
  "auth",
  "session",
  "jwt",
  "bearer",
  "cookie",
  "private",
  "otp",
];
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** Whether a query parameter (or similar) name suggests that its value is a secret. */
export function isSecretName(name: string): boolean {
  const squashed = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SECRET_NAME_PARTS.some((part) => squashed.includes(part));
}

/**
 * A URL for messages and logs: user info dropped and the values of secret-looking query parameters
 * (see `isSecretName`) replaced by REDACTED. Every message, log line and event that shows a URL
 * goes through this one function.
 */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return "<invalid URL>";
  }
  parsed.username = "";
  parsed.password = "";
  for (const name of [...new Set(parsed.searchParams.keys())]) {
    if (isSecretName(name)) parsed.searchParams.set(name, "REDACTED");
  }
  return parsed.toString();
}

/** Headers for logs: credentials replaced, keeping the auth scheme so logs still say what was sent. */
export function redactHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    if (!SECRET_HEADERS.has(name.toLowerCase())) {
      result[name] = text;
      continue;
    }
    const scheme = /^(Basic|Bearer)\s/i.exec(text)?.[1];
    result[name] = scheme ? `${scheme} REDACTED` : "REDACTED";
  }
  return result;
}
