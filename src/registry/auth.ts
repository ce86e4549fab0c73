import { PolypackError } from "../errors/index.js";
import type { Credential, CredentialProvider } from "./credentials/types.js";
import { allowsPlainHttp, isRealmAllowed } from "./address.js";
import { discard, isReplayable, withHeaders } from "../http/message.js";
import { redactUrl } from "../http/redact.js";
import type { RegistryRequest, RegistrySend as Send } from "./http.js";
import { basicAuthorization, fetchToken, mergeScopes, type Token } from "./token.js";
import { parseWwwAuthenticate, type Challenge } from "./www-authenticate.js";

/** Options of the auth handshake. */
export interface AuthOptions {
  /** Where credentials come from; none means anonymous. */
  credentials?: CredentialProvider;
  /** Registry hosts the user allowed plain HTTP for. */
  insecure?: readonly string[];
  /** Sends token requests (without this wrapper). */
  tokenSend: Send;
  /** Milliseconds since the epoch, for token expiry. */
  now: () => number;
}

/** What a registry asked for in its last challenge; `scopes` only apply to the request that got it. */
type Scheme =
  | { kind: "basic"; scopes: string[] }
  | { kind: "bearer"; realm: URL; service: string | undefined; scopes: string[] };

/**
 * The auth handshake: answers a 401 by reading the challenge, fetching credentials or a token for
 * the request's scopes and sending the request once more. What was learnt per origin is reused, so
 * later requests (including one-shot upload bodies) carry credentials from the start.
 */
export function withAuth(send: Send, options: AuthOptions): Send {
  const schemes = new Map<string, Scheme>();
  const tokens = new Map<string, Promise<Token>>();
  const credentials = new Map<string, Promise<Credential | undefined>>();

  const credentialFor = (host: string): Promise<Credential | undefined> => {
    let found = credentials.get(host);
    if (!found) {
      found = options.credentials?.get(host) ?? Promise.resolve(undefined);
      credentials.set(host, found);
    }
    return found;
  };

  const authorization = async (request: RegistryRequest, refresh: boolean): Promise<string | undefined> => {
    const scheme = schemes.get(request.url.origin);
    if (!scheme) return undefined;
    const credential = await credentialFor(request.url.host);
    if (
      credential &&
      request.url.protocol === "http:" &&
      !allowsPlainHttp(request.url.host, options.insecure)
    ) {
      return undefined;
    }
    if (scheme.kind === "basic") {
      if (credential?.username === undefined || credential.password === undefined) return undefined;
      return basicAuthorization(credential.username, credential.password);
    }
    if (credential?.registryToken) return `Bearer ${credential.registryToken}`;
    const scopes = mergeScopes(request.scopes ?? []);
    const key = `${request.url.origin}|${scheme.realm.href}|${scheme.service ?? ""}|${scopes.join(" ")}`;
    // No await unless a token is on its way, so that racing requests see each other's fetch.
    const entry = refresh ? undefined : tokens.get(key);
    const cached = entry ? await entry.catch(() => undefined) : undefined;
    if (cached && cached.expiresAt > options.now()) return `Bearer ${cached.value}`;
    checkRealm(request.url, scheme.realm, credential, options.insecure);
    // Concurrent requests for the same scopes share one token request.
    const fetching = fetchToken(
      options.tokenSend,
      { realm: scheme.realm, service: scheme.service, scopes },
      credential,
      request.url.host,
      options.now,
    );
    tokens.set(key, fetching);
    fetching.catch(() => tokens.get(key) === fetching && tokens.delete(key));
    return `Bearer ${(await fetching).value}`;
  };

  const exchange: Send = async (request) => {
    const first = await authorization(request, false);
    const response = await send(first ? withHeaders(request, { authorization: first }) : request);
    if (response.status !== 401) return response;
    const scheme = schemeFrom(parseWwwAuthenticate(response.headers["www-authenticate"]), request.url);
    if (!scheme) return response;
    schemes.set(request.url.origin, scheme);
    if (!isReplayable(request.body)) return response;
    const second = await authorization(
      { ...request, scopes: [...(request.scopes ?? []), ...scheme.scopes] },
      true,
    );
    if (second === undefined || (second === first && scheme.kind === "basic")) return response;
    await discard(response);
    return send(withHeaders(request, { authorization: second }));
  };

  const firstContact = new Map<string, Promise<unknown>>();
  return async (request) => {
    if (request.authorize === false) return send(request);
    const origin = request.url.origin;
    if (!schemes.has(origin)) {
      // Requests racing the first one to a registry wait for it to learn the scheme, rather than
      // all collecting a 401 (which one-shot upload bodies could not even recover from).
      const pending = firstContact.get(origin);
      if (!pending) {
        const result = exchange(request);
        firstContact.set(
          origin,
          result.catch(() => undefined),
        );
        return result;
      }
      await pending;
    }
    return exchange(request);
  };
}

/** The challenge polypack answers: Bearer when offered (it carries scopes), else Basic. */
function schemeFrom(challenges: Challenge[], registryUrl: URL): Scheme | undefined {
  const bearer = challenges.find((c) => c.scheme === "bearer" && c.params["realm"]);
  if (bearer) {
    let realm: URL;
    try {
      realm = new URL(bearer.params["realm"]!, registryUrl);
    } catch {
      return undefined;
    }
    const scope = bearer.params["scope"];
    return {
      kind: "bearer",
      realm,
      service: bearer.params["service"],
      scopes: scope ? scope.split(" ").filter(Boolean) : [],
    };
  }
  return challenges.some((c) => c.scheme === "basic") ? { kind: "basic", scopes: [] } : undefined;
}

/** Refuses realms that would leak credentials or reach into a private network. */
function checkRealm(
  registryUrl: URL,
  realm: URL,
  credential: Credential | undefined,
  insecure?: readonly string[],
): void {
  if (realm.protocol !== "https:" && realm.protocol !== "http:") {
    throw new PolypackError(
      "AUTH_REALM_REFUSED",
      `${registryUrl.host} names a token realm with scheme ${realm.protocol}`,
    );
  }
  if (!isRealmAllowed(registryUrl.hostname.replace(/^\[|\]$/g, ""), realm)) {
    throw new PolypackError(
      "AUTH_REALM_REFUSED",
      `registry ${registryUrl.host} sent its token requests to the local or private address ${redactUrl(realm)}; refused`,
      { hint: "a remote registry should not point at addresses inside this network" },
    );
  }
  if (realm.protocol === "http:" && credential && !allowsPlainHttp(realm.host, insecure)) {
    throw new PolypackError(
      "AUTH_REALM_REFUSED",
      `registry ${registryUrl.host} asks for credentials over plain http at ${redactUrl(realm)}; refused`,
      { hint: `name ${realm.host} as an insecure registry only if you trust that network` },
    );
  }
}
