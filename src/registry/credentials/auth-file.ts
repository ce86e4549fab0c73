import { credentialsInvalid } from "./errors.js";
import { normalizeRegistryHost, parseAuthKey } from "./host.js";
import type { Credential } from "./types.js";

/** One `auths` entry of a Docker config or containers auth file. */
export interface AuthEntry {
  /** The key exactly as written in the file, for messages. */
  key: string;
  /** Normalised registry host the entry belongs to. */
  host: string;
  /** Repository path the entry is limited to ("" for the whole registry). */
  path: string;
  /** The credential, or undefined for placeholder entries such as `{}` written next to a credsStore. */
  credential: Credential | undefined;
}

/** What a Docker config.json or containers auth.json says about registry credentials. */
export interface AuthFileContents {
  auths: AuthEntry[];
  /** Per-host credential helper names (`credHelpers`), keyed by normalised host. */
  credHelpers: Map<string, string>;
  /** Default credential helper name (`credsStore`). */
  credsStore: string | undefined;
}

/** What a missing file says: nothing. Shared, so never modify it. */
export const EMPTY_AUTH_FILE: Readonly<AuthFileContents> = {
  auths: [],
  credHelpers: new Map(),
  credsStore: undefined,
};

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBasicAuth(
  encoded: string,
  file: string,
  where: string,
): { username: string; password: string } {
  // Buffer.from silently skips invalid characters, which would turn a corrupt entry into wrong credentials.
  if (!STRICT_BASE64.test(encoded)) {
    throw credentialsInvalid(file, `${where}.auth`, "is not valid base64");
  }
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) {
    throw credentialsInvalid(file, `${where}.auth`, 'does not decode to "username:password"');
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function optionalString(entry: JsonObject, field: string, file: string, where: string): string | undefined {
  const value = entry[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw credentialsInvalid(file, `${where}.${field}`, `must be a string, not ${typeof value}`);
  }
  return value;
}

/** Parses one credential entry; `where` locates it in the file for messages, e.g. `auths["ghcr.io"]`. */
function parseEntry(key: string, value: unknown, file: string, where: string): AuthEntry {
  if (!isObject(value)) {
    throw credentialsInvalid(file, where, "must be an object");
  }
  const auth = optionalString(value, "auth", file, where);
  const basic = auth === undefined ? undefined : decodeBasicAuth(auth, file, where);
  const credential: Credential = {};
  const username = basic?.username ?? optionalString(value, "username", file, where);
  const password = basic?.password ?? optionalString(value, "password", file, where);
  const identityToken = optionalString(value, "identitytoken", file, where);
  const registryToken = optionalString(value, "registrytoken", file, where);
  if (username !== undefined) credential.username = username;
  if (password !== undefined) credential.password = password;
  if (identityToken !== undefined) credential.identityToken = identityToken;
  if (registryToken !== undefined) credential.registryToken = registryToken;
  const { host, path } = parseAuthKey(key);
  return { key, host, path, credential: Object.keys(credential).length === 0 ? undefined : credential };
}

function parseHelperMap(value: unknown, file: string): Map<string, string> {
  const helpers = new Map<string, string>();
  if (value === undefined || value === null) return helpers;
  if (!isObject(value)) throw credentialsInvalid(file, "credHelpers", "must be an object");
  for (const [key, name] of Object.entries(value)) {
    if (typeof name !== "string" || name === "") {
      throw credentialsInvalid(file, `credHelpers["${key}"]`, "must be a helper name");
    }
    helpers.set(parseAuthKey(key).host, name);
  }
  return helpers;
}

/**
 * What is wrong with text that JSON.parse refused, without any of the text: the parser's messages
 * may quote the file (a secret, for a credentials file), so only their content-free forms are kept,
 * with the line and column when the parser gave a position.
 */
export function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : "";
  if (/^Unexpected end of JSON input/.test(message)) return "it ends before the JSON is complete";
  const positioned = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
  // "Unexpected token 'x', ..." quotes the text itself; the other positioned messages name grammar only.
  if (positioned && !positioned[1]!.includes('"') && !positioned[1]!.startsWith("Unexpected token")) {
    const offset = Math.min(Number(positioned[2]), text.length);
    const before = text.slice(0, offset).split("\n");
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    return `${positioned[1]!.replace(/^./, (c) => c.toLowerCase())} at line ${line}, column ${column}`;
  }
  return "it has a syntax error";
}

function parseJsonObject(text: string, file: string): JsonObject {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw credentialsInvalid(file, undefined, `is not valid JSON: ${describeJsonError(error, text)}`);
  }
  if (!isObject(document)) throw credentialsInvalid(file, undefined, "must contain a JSON object");
  return document;
}

/** Parses the text of a Docker config.json or containers auth.json; `file` names it in errors. */
export function parseAuthFile(text: string, file: string): AuthFileContents {
  const document = parseJsonObject(text, file);
  const auths = document["auths"] ?? {};
  if (!isObject(auths)) throw credentialsInvalid(file, "auths", "must be an object");
  const credsStore = document["credsStore"];
  if (credsStore !== undefined && credsStore !== "" && typeof credsStore !== "string") {
    throw credentialsInvalid(file, "credsStore", "must be a helper name");
  }
  return {
    auths: Object.entries(auths).map(([key, value]) => parseEntry(key, value, file, `auths["${key}"]`)),
    credHelpers: parseHelperMap(document["credHelpers"], file),
    credsStore: credsStore === "" ? undefined : credsStore,
  };
}

/**
 * Parses the text of a legacy `~/.dockercfg`: the same entries as `auths`, but at the top level and
 * without helpers. They come back as `auths` so both formats are looked up alike.
 */
export function parseLegacyDockerConfig(text: string, file: string): AuthFileContents {
  const document = parseJsonObject(text, file);
  return {
    auths: Object.entries(document).map(([key, value]) => parseEntry(key, value, file, `["${key}"]`)),
    credHelpers: new Map(),
    credsStore: undefined,
  };
}

/**
 * The entry that applies to a host and, when given, a repository on it: the longest matching repository
 * path wins, then the whole-registry entry. Entries without a credential never match.
 */
export function findAuthEntry(
  entries: readonly AuthEntry[],
  registryHost: string,
  repository = "",
): AuthEntry | undefined {
  const host = normalizeRegistryHost(registryHost);
  let best: AuthEntry | undefined;
  for (const entry of entries) {
    if (entry.host !== host || entry.credential === undefined) continue;
    const covers = entry.path === "" || repository === entry.path || repository.startsWith(`${entry.path}/`);
    if (covers && (best === undefined || entry.path.length > best.path.length)) best = entry;
  }
  return best;
}
