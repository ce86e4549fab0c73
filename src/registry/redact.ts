const SECRET_QUERY_PARAMS = new Set([
  "access_token",
  "token",
  "refresh_token",
  "password",
  "x-amz-signature",
  "sig",
]);
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** A URL for messages and logs: user info dropped and secret-looking query values replaced. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return "<invalid URL>";
  }
  parsed.username = "";
  parsed.password = "";
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_QUERY_PARAMS.has(name.toLowerCase())) parsed.searchParams.set(name, "REDACTED");
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
