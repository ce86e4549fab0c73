import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { withAuth } from "../../../src/registry/auth.js";
import type { Credential } from "../../../src/registry/credentials/types.js";
import type { RegistryRequest } from "../../../src/registry/http.js";
import { fakeClock, scripted, type Answer } from "./transport-fakes.js";

const REGISTRY = "https://registry.example.com";
const CHALLENGE = `Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/app:pull"`;

function provider(map: Record<string, Credential>): {
  get(host: string): Promise<Credential | undefined>;
  asked: string[];
} {
  const asked: string[] = [];
  return { asked, get: (host) => (asked.push(host), Promise.resolve(map[host])) };
}

/** A registry that wants `Bearer good-<n>` tokens; anything else gets the challenge. */
function bearerRegistry(challenge = CHALLENGE): ReturnType<typeof scripted> {
  return scripted((request) =>
    /^Bearer good-/.test(request.headers?.["authorization"] ?? "")
      ? { status: 200 }
      : { status: 401, headers: { "www-authenticate": challenge } },
  );
}

function tokenServer(
  reply: (request: RegistryRequest, index: number) => Answer = (_r, i) => ({
    status: 200,
    body: JSON.stringify({ token: `good-${i}`, expires_in: 300 }),
  }),
): ReturnType<typeof scripted> {
  return scripted(reply);
}

const get = (path: string, scopes: string[], body?: RegistryRequest["body"]): RegistryRequest => ({
  method: body ? "PUT" : "GET",
  url: new URL(`${REGISTRY}${path}`),
  scopes,
  ...(body ? { body } : {}),
});

test("answers a Bearer challenge with a token for the request's scopes, then reuses it", async () => {
  const clock = fakeClock();
  const registry = bearerRegistry();
  const tokens = tokenServer();
  const credentials = provider({ "registry.example.com": { username: "u", password: "p" } });
  const send = withAuth(registry, { credentials, tokenSend: tokens, now: () => clock.now() });

  const first = await send(
    get("/v2/org/app/manifests/1", ["repository:org/app:pull,push", "repository:org/base:pull"]),
  );
  assert.equal(first.status, 200);
  assert.equal(tokens.seen.length, 1);
  const tokenUrl = tokens.seen[0]!.url;
  assert.equal(tokenUrl.origin + tokenUrl.pathname, "https://auth.example.com/token");
  assert.equal(tokenUrl.searchParams.get("service"), "registry.example.com");
  assert.deepEqual(tokenUrl.searchParams.getAll("scope"), [
    "repository:org/app:pull,push",
    "repository:org/base:pull",
  ]);
  assert.equal(tokens.seen[0]!.headers?.["authorization"], `Basic ${Buffer.from("u:p").toString("base64")}`);
  assert.equal(registry.seen[1]!.headers?.["authorization"], "Bearer good-0");

  // The same scopes again: the cached token goes out with the first request.
  await send(get("/v2/org/app/manifests/2", ["repository:org/base:pull", "repository:org/app:push,pull"]));
  assert.equal(tokens.seen.length, 1);
  assert.equal(registry.seen.length, 3);

  // Other scopes get their own token, fetched before the request since the scheme is known.
  await send(get("/v2/other/manifests/1", ["repository:other:pull"]));
  assert.equal(tokens.seen.length, 2);
  assert.equal(registry.seen.length, 4);

  // Past expiry the token is renewed.
  await clock.sleep(301_000);
  await send(get("/v2/other/manifests/1", ["repository:other:pull"]));
  assert.equal(tokens.seen.length, 3);
  assert.deepEqual(credentials.asked, ["registry.example.com"]);
});

test("uses an identity token through the OAuth2 refresh-token POST", async () => {
  const registry = bearerRegistry();
  const tokens = tokenServer(() => ({
    status: 200,
    body: JSON.stringify({ access_token: "good-oauth", expires_in: 60 }),
  }));
  const credentials = provider({ "registry.example.com": { identityToken: "refresh-me" } });
  const response = await withAuth(registry, { credentials, tokenSend: tokens, now: Date.now })(
    get("/v2/org/app/tags/list", ["repository:org/app:pull"]),
  );
  assert.equal(response.status, 200);
  const request = tokens.seen[0]!;
  assert.equal(request.method, "POST");
  assert.equal(request.headers?.["content-type"], "application/x-www-form-urlencoded");
  const form = new URLSearchParams((request.body as Buffer).toString("utf8"));
  assert.equal(form.get("grant_type"), "refresh_token");
  assert.equal(form.get("refresh_token"), "refresh-me");
  assert.equal(form.get("service"), "registry.example.com");
  assert.equal(form.get("scope"), "repository:org/app:pull");
  assert.equal(registry.seen[1]!.headers?.["authorization"], "Bearer good-oauth");
});

test("sends a registry token as is, without asking a token server", async () => {
  const registry = bearerRegistry();
  const tokens = tokenServer();
  const credentials = provider({ "registry.example.com": { registryToken: "good-static" } });
  assert.equal(
    (await withAuth(registry, { credentials, tokenSend: tokens, now: Date.now })(get("/v2/", []))).status,
    200,
  );
  assert.equal(tokens.seen.length, 0);
});

test("refuses a remote registry's realm on a loopback or private address", async () => {
  for (const realm of ["http://127.0.0.1:9000/token", "https://192.168.1.10/token", "https://[::1]/token"]) {
    const registry = bearerRegistry(`Bearer realm="${realm}",service="x"`);
    const tokens = tokenServer();
    await assert.rejects(
      withAuth(registry, { tokenSend: tokens, now: Date.now })(get("/v2/", [])),
      (e) => isPolypackError(e, "AUTH_REALM_REFUSED") && e.message.includes("registry.example.com"),
    );
    assert.equal(tokens.seen.length, 0, realm);
  }
});

test("refuses to send credentials to a plain-http realm on a remote host", async () => {
  const registry = bearerRegistry(`Bearer realm="http://auth.example.com/token"`);
  const credentials = provider({ "registry.example.com": { username: "u", password: "p" } });
  await assert.rejects(
    withAuth(registry, { credentials, tokenSend: tokenServer(), now: Date.now })(get("/v2/", [])),
    (e) => isPolypackError(e, "AUTH_REALM_REFUSED"),
  );
});

test("answers Basic challenges once; wrong credentials give back the 401", async () => {
  const expected = `Basic ${Buffer.from("u:right").toString("base64")}`;
  const registry = scripted((request) =>
    request.headers?.["authorization"] === expected
      ? { status: 200 }
      : { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } },
  );
  const good = withAuth(registry, {
    credentials: provider({ "registry.example.com": { username: "u", password: "right" } }),
    tokenSend: tokenServer(),
    now: Date.now,
  });
  assert.equal((await good(get("/v2/", []))).status, 200);
  assert.equal((await good(get("/v2/a/blobs/x", []))).status, 200);
  assert.equal(registry.seen.length, 3, "credentials sent up front once the scheme is known");

  const wrong = scripted(() => ({ status: 401, headers: { "www-authenticate": 'Basic realm="r"' } }));
  const bad = withAuth(wrong, {
    credentials: provider({ "registry.example.com": { username: "u", password: "nope" } }),
    tokenSend: tokenServer(),
    now: Date.now,
  });
  assert.equal((await bad(get("/v2/", []))).status, 401);
  assert.equal(wrong.seen.length, 2);
  const anonymous = scripted(() => ({ status: 401, headers: { "www-authenticate": 'Basic realm="r"' } }));
  assert.equal(
    (await withAuth(anonymous, { tokenSend: tokenServer(), now: Date.now })(get("/v2/", []))).status,
    401,
  );
  assert.equal(anonymous.seen.length, 1);
});

test("a one-shot body is not resent, but the next request carries the token from the start", async () => {
  const registry = bearerRegistry();
  const tokens = tokenServer();
  const send = withAuth(registry, { tokenSend: tokens, now: Date.now });
  const once = await send(
    get("/v2/org/app/blobs/uploads/1", ["repository:org/app:pull,push"], Readable.from(["data"])),
  );
  assert.equal(once.status, 401);
  assert.equal(registry.seen.length, 1);
  const again = await send(
    get("/v2/org/app/blobs/uploads/1", ["repository:org/app:pull,push"], Readable.from(["data"])),
  );
  assert.equal(again.status, 200);
  assert.equal(registry.seen.length, 2);
});

test("requests that left the registry by redirect get no credentials", async () => {
  const registry = bearerRegistry();
  const send = withAuth(registry, { tokenSend: tokenServer(), now: Date.now });
  await send(get("/v2/", []));
  await send({ ...get("/v2/", []), authorize: false });
  assert.equal(registry.seen.at(-1)!.headers?.["authorization"], undefined);
});

test("a refusing token server becomes REGISTRY_UNAUTHORIZED naming the registry", async () => {
  const tokens = tokenServer(() => ({
    status: 401,
    body: JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad creds" }] }),
  }));
  const credentials = provider({ "registry.example.com": { username: "u", password: "wrong" } });
  await assert.rejects(
    withAuth(bearerRegistry(), { credentials, tokenSend: tokens, now: Date.now })(get("/v2/", [])),
    (e) =>
      isPolypackError(e, "REGISTRY_UNAUTHORIZED") &&
      e.message.includes("registry.example.com") &&
      !e.message.includes("wrong"),
  );
});

test("concurrent requests for the same scopes share one token request", async () => {
  const registry = bearerRegistry();
  const tokens = tokenServer();
  const send = withAuth(registry, { tokenSend: tokens, now: Date.now });
  await send(get("/v2/", []));
  const before = tokens.seen.length;
  const scopes = ["repository:org/new:pull"];
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => send(get("/v2/org/new/manifests/x", scopes))),
  );
  assert.ok(answers.every((r) => r.status === 200));
  assert.equal(tokens.seen.length, before + 1);
});
