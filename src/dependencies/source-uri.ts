import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PolypackError } from "../errors/index.js";
import { redactUrl } from "../http/redact.js";

/** Where a dependency's bytes come from, resolved from its `uri`. */
export type DependencySource = { kind: "http"; url: URL } | { kind: "file"; path: string };

/**
 * Resolves a dependency `uri`: `http:` and `https:` URLs, absolute `file:///path` (or `file:/path`),
 * and relative `file:path/to/file.tgz` (no slashes after the colon), which is resolved against
 * `baseDir`, the buildpack's directory, as jam does. Throws DEPENDENCY_URI_UNSUPPORTED otherwise,
 * with a reason that the caller puts after the dependency's name and URI.
 */
export function resolveDependencyUri(uri: string, baseDir: string): DependencySource {
  const text = uri.trim();
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === "file") return { kind: "file", path: resolveFileUri(text, baseDir) };
  if (scheme === "http" || scheme === "https") {
    try {
      return { kind: "http", url: new URL(text) };
    } catch (error) {
      throw unsupported("it is not a valid URL", error);
    }
  }
  throw unsupported(scheme === undefined ? "it has no scheme" : `the ${scheme}: scheme is not supported`);
}

function resolveFileUri(text: string, baseDir: string): string {
  const rest = text.slice("file:".length);
  if (rest.startsWith("/")) {
    try {
      return fileURLToPath(new URL(text));
    } catch (error) {
      throw unsupported("it is not a local file URL", error);
    }
  }
  // A relative reference: `file:dir/name.tgz`. WHATWG URL parsing would anchor it at `/`, so it is
  // decoded by hand, without the query or fragment a URL may carry.
  const path = decodePath(rest.replace(/[?#].*$/, ""));
  if (path === "") throw unsupported("it names no file");
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function decodePath(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch (error) {
    throw unsupported("its percent-encoding is invalid", error);
  }
}

function unsupported(detail: string, cause?: unknown): PolypackError {
  return new PolypackError("DEPENDENCY_URI_UNSUPPORTED", detail, {
    cause,
    hint: "use an http:, https: or file: URI",
  });
}

/** A `uri` fit for messages: HTTP credentials and secret-looking query values removed. */
export function displayUri(uri: string): string {
  const text = uri.trim();
  return /^https?:/i.test(text) ? redactUrl(text) : text;
}
