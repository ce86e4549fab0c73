import { BlockList, isIP } from "node:net";

/** A host with optional port, split; IPv6 literals lose their brackets. */
export function splitHostPort(host: string): { hostname: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return { hostname: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  const colon = host.lastIndexOf(":");
  if (colon !== -1 && host.indexOf(":") === colon) {
    return { hostname: host.slice(0, colon).toLowerCase(), port: host.slice(colon + 1) };
  }
  return { hostname: host.toLowerCase(), port: undefined };
}

function ipv4Parts(address: string): number[] | undefined {
  if (isIP(address) !== 4) return undefined;
  return address.split(".").map(Number);
}

/** The IPv4 address inside an IPv4-mapped IPv6 address such as `::ffff:127.0.0.1`. */
function mappedIPv4(address: string): string | undefined {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match?.[1];
}

/** Whether a host name (no port) is `localhost`, a name under it, or a loopback address. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  const v4 = ipv4Parts(mappedIPv4(name) ?? name);
  if (v4) return v4[0] === 127;
  return isIP(name) === 6 && /^(0*:)*:?0*1$/.test(name);
}

/**
 * Whether a host name is a literal address that only makes sense inside a network: private,
 * unique-local, link-local or unspecified. Names are not resolved; loopback is reported separately.
 */
export function isPrivateHostname(hostname: string): boolean {
  const name = hostname.toLowerCase();
  const v4 = ipv4Parts(mappedIPv4(name) ?? name);
  if (v4) {
    const [a, b] = v4 as [number, number];
    return (
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  if (isIP(name) !== 6) return false;
  return /^f[cd][0-9a-f]{0,2}:/.test(name) || /^fe[89ab][0-9a-f]?:/.test(name) || /^(0*:)*:?0*$/.test(name);
}

/**
 * Whether the user named this registry host insecure, as Docker's `insecure-registries` do: an
 * entry is a host with optional port (`registry.lan:5000`; `host` and `host:443` are the same, and
 * an `http://` or `https://` prefix is ignored) or an address range in CIDR form (`10.0.0.0/8`),
 * which covers every port of the addresses in it.
 */
export function isNamedInsecure(registryHost: string, insecure: readonly string[] = []): boolean {
  const host = canonicalHost(registryHost);
  const { hostname } = splitHostPort(host);
  return insecure.some((entry) => {
    const cleaned = entry
      .trim()
      .replace(/^https?:\/\//i, "")
      .replace(/\/+$/, "");
    const range = /^(.+)\/(\d{1,3})$/.exec(cleaned);
    if (range) return inRange(hostname, range[1]!, Number(range[2]));
    return canonicalHost(cleaned) === host;
  });
}

/** A host with port as compared: lower case, and without the default HTTPS port. */
function canonicalHost(host: string): string {
  const { hostname, port } = splitHostPort(host.trim());
  const name = hostname.includes(":") ? `[${hostname}]` : hostname;
  return port === undefined || port === "443" ? name : `${name}:${port}`;
}

/** Whether an address lies in `network/prefix`; names (not addresses) never do. */
function inRange(hostname: string, network: string, prefix: number): boolean {
  const family = isIP(network);
  const address = mappedIPv4(hostname) ?? hostname;
  if (family === 0 || isIP(address) !== family || prefix > (family === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(network, prefix, family === 4 ? "ipv4" : "ipv6");
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Whether plain HTTP may be used for a registry: loopback hosts and hosts the user named insecure.
 * HTTPS is still tried first; this only permits the fallback (and credentials over it).
 */
export function allowsPlainHttp(registryHost: string, insecure: readonly string[] = []): boolean {
  return isNamedInsecure(registryHost, insecure) || isLoopbackHostname(splitHostPort(registryHost).hostname);
}

/** The base URL of a registry's API. Always https: `scheme.ts` decides per host whether to fall back. */
export function registryBaseUrl(apiHost: string): URL {
  return new URL(`https://${apiHost}/`);
}

/**
 * Whether a token realm may be contacted. A remote registry must not send us to a loopback or
 * private address, which could reach services the registry itself cannot see.
 */
export function isRealmAllowed(registryHostname: string, realm: URL): boolean {
  if (isLoopbackHostname(registryHostname)) return true;
  const realmHost = realm.hostname.replace(/^\[|\]$/g, "");
  if (isLoopbackHostname(realmHost)) return false;
  // A registry addressed by a private address is already inside that network.
  return !isPrivateHostname(realmHost) || isPrivateHostname(registryHostname);
}
