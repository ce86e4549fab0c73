import { allowsPlainHttp } from "./address.js";
import type { TlsProbeResult } from "../http/tls-probe.js";
import type { RegistryRequest, RegistrySend as Send } from "./http.js";

/** What the scheme layer needs: which hosts were named insecure, and a way to try TLS with a host. */
export interface SchemeOptions {
  /** Registry hosts (with port) the user named insecure. */
  insecure: readonly string[];
  /** One TLS handshake with the request's host; throws when TLS fails for a reason other than plain text. */
  probe: (request: RegistryRequest) => Promise<TlsProbeResult>;
}

/**
 * Whether a request must learn its host's scheme first: https requests to hosts that may fall back
 * to plain HTTP (loopback hosts and hosts named insecure). Remote hosts stay on https, and URLs
 * that already say http (a registry's own Location headers) are taken as they are.
 */
export function needsProbe(url: URL, insecure: readonly string[]): boolean {
  return url.protocol === "https:" && allowsPlainHttp(url.host, insecure);
}

/** The scheme a probe result calls for. */
export function schemeAfter(result: TlsProbeResult): "https:" | "http:" {
  return result === "tls" ? "https:" : "http:";
}

/** The same URL with another scheme; the port stays as written (an absent one follows the scheme). */
export function withProtocol(url: URL, protocol: "https:" | "http:"): URL {
  const changed = new URL(url);
  changed.protocol = protocol;
  return changed;
}

/**
 * The one place that decides between https and http, as Docker does: https first, plain HTTP only
 * for hosts allowed to fall back and only when the server does not speak TLS at all. A certificate
 * the client does not trust is an error, never a reason to downgrade. The answer is kept per host
 * for the life of the transport, and concurrent first requests wait for the same handshake.
 */
export function withSchemeSelection(send: Send, options: SchemeOptions): Send {
  const schemes = new Map<string, Promise<"https:" | "http:">>();

  const schemeFor = (request: RegistryRequest): Promise<"https:" | "http:"> => {
    const host = request.url.host;
    let scheme = schemes.get(host);
    if (!scheme) {
      const learning = options.probe(request).then(schemeAfter);
      scheme = learning;
      schemes.set(host, learning);
      // A host that could not be reached is asked again next time (the retry layer relies on it).
      learning.catch(() => schemes.get(host) === learning && schemes.delete(host));
    }
    return scheme;
  };

  return async (request) => {
    if (!needsProbe(request.url, options.insecure)) return send(request);
    const scheme = await schemeFor(request);
    return send(scheme === "https:" ? request : { ...request, url: withProtocol(request.url, scheme) });
  };
}
