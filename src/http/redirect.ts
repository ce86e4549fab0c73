import type { ErrorFactory } from "./errors.js";
import { discard, header, type HttpRequest, type Send } from "./message.js";
import { redactUrl } from "./redact.js";

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The default cap on redirects followed for one request. */
export const DEFAULT_MAX_REDIRECTS = 5;

/**
 * The request to send after a redirect to `location`. Credentials stay behind when the target is
 * another origin (host, port or scheme), which also covers a downgrade from https to http.
 */
export function redirectedRequest<R extends HttpRequest>(request: R, location: URL): R {
  const sameOrigin = location.origin === request.url.origin;
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).filter(
      ([name]) => sameOrigin || name.toLowerCase() !== "authorization",
    ),
  );
  return {
    ...request,
    url: location,
    headers,
    authorize: sameOrigin && request.authorize !== false,
  };
}

/**
 * Follows redirects of GET and HEAD requests by hand (blob downloads are often sent to storage on
 * another host), so that the decision about credentials is ours, and caps their number. A redirect
 * to another scheme, or one too many, is the client's "protocol" error.
 */
export function withRedirects<R extends HttpRequest>(
  send: Send<R>,
  errors: ErrorFactory,
  maxRedirects: number = DEFAULT_MAX_REDIRECTS,
): Send<R> {
  return async (original) => {
    let request = original;
    for (let hops = 0; ; hops++) {
      const response = await send(request);
      const location = header(response, "location");
      const follow =
        (request.method === "GET" || request.method === "HEAD") && REDIRECT_STATUSES.has(response.status);
      if (!follow || location === undefined) return response;
      await discard(response);
      const target = new URL(location, response.url);
      if (target.protocol !== "https:" && target.protocol !== "http:") {
        throw errors("protocol", `${redactUrl(request.url)} redirected to a ${target.protocol} URL`, {
          url: redactUrl(request.url),
          status: response.status,
        });
      }
      if (hops >= maxRedirects) {
        throw errors("protocol", `more than ${maxRedirects} redirects from ${redactUrl(original.url)}`, {
          url: redactUrl(original.url),
          status: response.status,
        });
      }
      request = redirectedRequest(request, target);
    }
  };
}
