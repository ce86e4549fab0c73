import { PolypackError } from "../errors/index.js";
import type { Credential } from "./credentials/types.js";
import { errorFromResponse } from "./errors.js";
import { readBody } from "../http/message.js";
import { redactUrl } from "../http/redact.js";
import type { RegistryRequest, RegistrySend as Send } from "./http.js";

const TOKEN_BODY_CAP = 1024 * 1024;
/** The token lifetime assumed when the server names none (the distribution token spec's default). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;
/** Tokens are renewed this long before they expire, so a request never leaves with a dying token. */
const EXPIRY_MARGIN_MS = 10_000;
/** The OAuth2 client id sent with refresh-token grants. */
const CLIENT_ID = "polypack";

/** Where and for what to ask a token server, from a Bearer challenge. */
export interface TokenRequest {
  realm: URL;
  service: string | undefined;
  scopes: readonly string[];
}

/** A bearer token and when to stop using it. */
export interface Token {
  value: string;
  expiresAt: number;
}

/** Reads the JSON a token server answers: `token` or `access_token`, with `expires_in`. */
export function parseTokenReply(body: Buffer, now: number, realm: URL): Token {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new PolypackError("AUTH_TOKEN_INVALID", `token server ${redactUrl(realm)} did not answer JSON`, {
      cause: error,
    });
  }
  const value = typeof json["token"] === "string" && json["token"] ? json["token"] : json["access_token"];
  if (typeof value !== "string" || value === "") {
    throw new PolypackError(
      "AUTH_TOKEN_INVALID",
      `token server ${redactUrl(realm)} answered without a token`,
    );
  }
  const expiresIn = json["expires_in"];
  const seconds = typeof expiresIn === "number" && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_LIFETIME_SECONDS;
  return { value, expiresAt: now + Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, seconds * 500) };
}

/**
 * The HTTP request for a token: an OAuth2 refresh-token POST when an identity token is known,
 * otherwise the classic GET with `service` and `scope` parameters and Basic credentials if any.
 */
export function tokenHttpRequest(request: TokenRequest, credential: Credential | undefined): RegistryRequest {
  if (credential?.identityToken) {
    const form = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: credential.identityToken,
      client_id: CLIENT_ID,
    });
    if (request.service !== undefined) form.set("service", request.service);
    if (request.scopes.length > 0) form.set("scope", request.scopes.join(" "));
    return {
      method: "POST",
      url: request.realm,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: Buffer.from(form.toString(), "utf8"),
    };
  }
  const url = new URL(request.realm);
  if (request.service !== undefined) url.searchParams.set("service", request.service);
  for (const scope of request.scopes) url.searchParams.append("scope", scope);
  const headers: Record<string, string> = {};
  if (credential?.username !== undefined && credential.password !== undefined) {
    headers["authorization"] = basicAuthorization(credential.username, credential.password);
  }
  return { method: "GET", url, headers };
}

/** The Authorization value for Basic credentials. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/** Asks the token server for a token; a refusal becomes REGISTRY_UNAUTHORIZED naming the registry. */
export async function fetchToken(
  send: Send,
  request: TokenRequest,
  credential: Credential | undefined,
  registryHost: string,
  now: () => number,
): Promise<Token> {
  const http = tokenHttpRequest(request, credential);
  const response = await send(http);
  if (response.status !== 200) {
    throw await errorFromResponse(
      response,
      http,
      `getting a token for ${registryHost} from ${redactUrl(request.realm)}`,
    );
  }
  return parseTokenReply(await readBody(response, TOKEN_BODY_CAP, "token reply"), now(), request.realm);
}

/** Merges scopes such as `repository:a:pull` and `repository:a:push` into `repository:a:pull,push`. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const actions = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const split = scope.lastIndexOf(":");
    if (split <= 0) continue;
    const resource = scope.slice(0, split);
    const set = actions.get(resource) ?? new Set<string>();
    for (const action of scope.slice(split + 1).split(",")) if (action) set.add(action);
    actions.set(resource, set);
  }
  return [...actions].map(([resource, set]) => `${resource}:${[...set].sort().join(",")}`).sort();
}
