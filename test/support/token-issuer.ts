/**
 * A token service for distribution's `auth: token` mode, so registry clients can be tested against the
 * real Bearer handshake: 401 challenge, token request with Basic credentials and scopes, retry with the
 * JWT. Tokens are ES256 JWTs whose header carries the signing certificate (`x5c`); distribution trusts
 * them because that self-signed certificate is its `rootcertbundle`.
 */
import { createPrivateKey, randomUUID, sign, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./tools.js";
import { startRegistry, type RegistryHandle } from "./registry.js";

/** Who may do what: `subject` is a username, `"*"` for any signed-in user, or `"anonymous"`. */
export interface AccessRule {
  subject: string;
  /** Repository name, `*` matching any characters (`"test/*"`, `"*"`). */
  repository: string;
  actions: readonly string[];
}

/** One resource in a token's `access` claim, or one scope asked for. */
export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

/** What the issuer saw in one token request, for assertions. */
export interface TokenRequestRecord {
  method: "GET" | "POST";
  service: string | undefined;
  /** Scopes exactly as sent, one per entry (space-separated scope parameters are split). */
  scopes: string[];
  /** Whether a username and password (Basic header or password grant) or refresh token came along. */
  credentialsSent: boolean;
  /** The user the credentials identified, when they were right. */
  username: string | undefined;
  /** `grant_type` of a POST, undefined for GET. */
  grantType: string | undefined;
  /** HTTP status the issuer answered with. */
  status: number;
  /** What the token allows (empty when refused). */
  granted: ResourceAccess[];
}

/** Options for {@link startTokenIssuer} and {@link startTokenRegistry}. */
export interface TokenIssuerOptions {
  /** Accounts as username → password; default {@link DEFAULT_USER}. */
  users?: Record<string, string>;
  /** Default: every user may push and pull `test/*`; anonymous requests get tokens without access. */
  acl?: readonly AccessRule[];
  /** Answer anonymous token requests with 401 instead of a token without access. */
  refuseAnonymous?: boolean;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

/** A running token issuer. */
export interface TokenIssuerHandle {
  /** Token endpoint URL, the challenge's `realm`. */
  realm: string;
  /** `service` the registry announces and tokens are issued for (their `aud`). */
  service: string;
  /** `iss` of every token. */
  issuer: string;
  /** PEM certificate distribution must trust (`rootcertbundle`). */
  certificatePath: string;
  /** Every token request so far, oldest first. */
  readonly requests: readonly TokenRequestRecord[];
  /** Forgets recorded requests, so a test can count its own. */
  clearRequests(): void;
  /** A refresh token the POST `refresh_token` grant accepts for a user, like an identity token. */
  refreshTokenFor(username: string): string;
  /** Stops the server and removes the key and certificate; safe to call twice. */
  stop(): Promise<void>;
}

/** A registry guarded by token auth, plus the issuer's controls. */
export interface TokenRegistryHandle extends RegistryHandle {
  issuer: TokenIssuerHandle;
  /** The first configured account, for convenience. */
  username: string;
  password: string;
}

/** The account configured when none is given. */
export const DEFAULT_USER = { username: "polypack", password: "polypack-secret" } as const;

const SERVICE = "polypack-test-registry";
const ISSUER = "polypack-test-issuer";

function usersOf(options: TokenIssuerOptions): Record<string, string> {
  return options.users ?? { [DEFAULT_USER.username]: DEFAULT_USER.password };
}

function defaultAcl(): AccessRule[] {
  return [{ subject: "*", repository: "test/*", actions: ["pull", "push"] }];
}

interface SigningIdentity {
  key: KeyObject;
  /** Base64 (not base64url) DER of the certificate, as `x5c` wants it. */
  certificateDer: string;
  certificatePath: string;
}

async function createSigningIdentity(dir: string): Promise<SigningIdentity> {
  const keyPath = join(dir, "token-signing.key");
  const certificatePath = join(dir, "token-signing.crt");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certificatePath,
    "-days",
    "2",
    "-subj",
    "/CN=polypack test token issuer",
  ]);
  // x5c holds standard base64 DER, which is exactly the body of the PEM file.
  const pem = await readFile(certificatePath, "utf8");
  const base64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return { key: createPrivateKey(await readFile(keyPath)), certificateDer: base64, certificatePath };
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** An ES256 JWT; the signature is raw r||s (IEEE P1363), which JOSE requires instead of DER. */
function signJwt(identity: SigningIdentity, claims: Record<string, unknown>): string {
  const header = { typ: "JWT", alg: "ES256", x5c: [identity.certificateDer] };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign("sha256", Buffer.from(signingInput), {
    key: identity.key,
    dsaEncoding: "ieee-p1363",
  });
  return `${signingInput}.${base64url(signature)}`;
}

/** Splits `repository:test/app:push,pull`; the name may itself contain colons (host:port). */
export function parseScope(scope: string): ResourceAccess | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first === -1 || first === last) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, "");
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  return { type, name: scope.slice(first + 1, last), actions };
}

function globMatches(pattern: string, value: string): boolean {
  const source = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${source.join(".*")}$`).test(value);
}

/** The part of each requested scope the ACL allows `subject` (a username, or undefined for anonymous). */
export function grantAccess(
  acl: readonly AccessRule[],
  subject: string | undefined,
  requested: readonly ResourceAccess[],
): ResourceAccess[] {
  const rules = acl.filter((rule) =>
    subject === undefined ? rule.subject === "anonymous" : rule.subject === "*" || rule.subject === subject,
  );
  const granted: ResourceAccess[] = [];
  for (const want of requested) {
    if (want.type !== "repository") continue;
    const allowed = new Set(
      rules.filter((rule) => globMatches(rule.repository, want.name)).flatMap((rule) => rule.actions),
    );
    const actions = want.actions.filter((action) => allowed.has(action) || allowed.has("*"));
    if (actions.length > 0) granted.push({ type: want.type, name: want.name, actions });
  }
  return granted;
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** Starts the token endpoint on 127.0.0.1 with a fresh signing key and certificate. */
export async function startTokenIssuer(options: TokenIssuerOptions = {}): Promise<TokenIssuerHandle> {
  const users = usersOf(options);
  const acl = options.acl ?? defaultAcl();
  const expiresIn = options.expiresIn ?? 300;
  // Not tempDir(): its after() hook would delete the files when called from a before() hook.
  const dir = await mkdtemp(join(tmpdir(), "polypack-token-"));
  const identity = await createSigningIdentity(dir).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map(Object.keys(users).map((user) => [`refresh-${user}-${randomUUID()}`, user]));

  const issue = (
    subject: string | undefined,
    scopes: string[],
  ): { body: Record<string, unknown>; access: ResourceAccess[] } => {
    const requested = scopes.map(parseScope).filter((s): s is ResourceAccess => s !== undefined);
    const access = grantAccess(acl, subject, requested);
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(identity, {
      iss: ISSUER,
      sub: subject ?? "",
      aud: SERVICE,
      exp: now + expiresIn,
      nbf: now - 1,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const issuedAt = new Date(now * 1000).toISOString();
    return { body: { token, access_token: token, expires_in: expiresIn, issued_at: issuedAt }, access };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method === "POST" ? "POST" : "GET";
    const params = method === "POST" ? new URLSearchParams(await readBody(request)) : url.searchParams;
    const scopes = params.getAll("scope").flatMap((s) => s.split(" ").filter((part) => part !== ""));
    const grantType = method === "POST" ? (params.get("grant_type") ?? undefined) : undefined;
    let sent: { username: string; password: string } | undefined;
    let subject: string | undefined;
    let credentialsSent = false;
    if (grantType === "refresh_token") {
      credentialsSent = true;
      subject = refreshTokens.get(params.get("refresh_token") ?? "");
    } else {
      sent =
        grantType === "password"
          ? { username: params.get("username") ?? "", password: params.get("password") ?? "" }
          : basicCredentials(request.headers.authorization);
      credentialsSent = sent !== undefined;
      if (
        sent !== undefined &&
        Object.hasOwn(users, sent.username) &&
        users[sent.username] === sent.password
      ) {
        subject = sent.username;
      }
    }
    const record = (status: number, granted: ResourceAccess[]): void => {
      requests.push({
        method,
        service: params.get("service") ?? undefined,
        scopes,
        credentialsSent,
        username: subject,
        grantType,
        status,
        granted,
      });
    };
    if (url.pathname !== "/token") {
      record(404, []);
      sendJson(response, 404, { errors: [{ code: "NOT_FOUND", message: "no such endpoint" }] });
      return;
    }
    if ((credentialsSent && subject === undefined) || (!credentialsSent && options.refuseAnonymous)) {
      record(401, []);
      const message = credentialsSent ? "incorrect username or password" : "authentication required";
      sendJson(
        response,
        401,
        { errors: [{ code: "UNAUTHORIZED", message }] },
        {
          "www-authenticate": `Basic realm="${ISSUER}"`,
        },
      );
      return;
    }
    const { body, access } = issue(subject, scopes);
    record(200, access);
    const wantsRefresh = params.get("access_type") === "offline" || grantType === "password";
    if (wantsRefresh && subject !== undefined) body["refresh_token"] = refreshTokenOf(subject);
    sendJson(response, 200, body);
  };

  const refreshTokenOf = (username: string): string => {
    for (const [token, user] of refreshTokens) if (user === username) return token;
    throw new Error(`no such user ${username}`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: SERVICE,
    issuer: ISSUER,
    certificatePath: identity.certificatePath,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    refreshTokenFor: refreshTokenOf,
    stop: () =>
      (stopped ??= (async () => {
        await new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((error) => (error ? reject(error) : resolve()));
        });
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

/** Starts a token issuer and a real distribution registry that trusts it. Stop it with `stop()`. */
export async function startTokenRegistry(options: TokenIssuerOptions = {}): Promise<TokenRegistryHandle> {
  const issuer = await startTokenIssuer(options);
  let registry: RegistryHandle;
  try {
    registry = await startRegistry({
      auth: {
        token: {
          realm: issuer.realm,
          service: issuer.service,
          issuer: issuer.issuer,
          rootcertbundle: issuer.certificatePath,
        },
      },
    });
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const [username, password] = Object.entries(usersOf(options))[0] ?? ["", ""];
  return {
    host: registry.host,
    url: registry.url,
    dataDir: registry.dataDir,
    issuer,
    username,
    password,
    stop: async () => {
      await registry.stop();
      await issuer.stop();
    },
  };
}

/** Writes a containers auth file holding `username`/`password` for a host, for tools like skopeo. */
export async function writeAuthFile(
  dir: string,
  host: string,
  username: string,
  password: string,
): Promise<string> {
  const path = join(dir, "auth.json");
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  await writeFile(path, JSON.stringify({ auths: { [host]: { auth } } }));
  return path;
}
