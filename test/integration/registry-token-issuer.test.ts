/**
 * The token-auth test setup itself, checked with plain HTTP requests: distribution must challenge,
 * accept the issuer's JWTs, and enforce exactly the access the ACL grants.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  grantAccess,
  parseScope,
  startTokenRegistry,
  type TokenRegistryHandle,
} from "../support/token-issuer.js";

let registry: TokenRegistryHandle;

before(async () => {
  registry = await startTokenRegistry({
    users: { alice: "alice-pw", bob: "bob-pw" },
    acl: [
      { subject: "*", repository: "test/*", actions: ["pull", "push"] },
      { subject: "bob", repository: "bob/*", actions: ["*"] },
    ],
    refuseAnonymous: true,
  });
});

after(() => registry.stop());

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

async function token(scopes: string[], authorization?: string): Promise<{ status: number; token?: string }> {
  const url = new URL(registry.issuer.realm);
  url.searchParams.set("service", registry.issuer.service);
  for (const scope of scopes) url.searchParams.append("scope", scope);
  const response = await fetch(url, { headers: authorization ? { authorization } : {} });
  const body = (await response.json()) as { token?: string; access_token?: string; expires_in?: number };
  if (response.status === 200) {
    assert.equal(body.access_token, body.token);
    assert.equal(body.expires_in, 300);
  }
  return { status: response.status, ...(body.token ? { token: body.token } : {}) };
}

async function registryStatus(path: string, bearer?: string): Promise<number> {
  const response = await fetch(`${registry.url}${path}`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  await response.arrayBuffer();
  return response.status;
}

test("the registry challenges with the issuer's realm and service", async () => {
  const response = await fetch(`${registry.url}/v2/test/app/tags/list`);
  await response.arrayBuffer();
  assert.equal(response.status, 401);
  assert.equal(
    response.headers.get("www-authenticate"),
    `Bearer realm="${registry.issuer.realm}",service="${registry.issuer.service}",scope="repository:test/app:pull"`,
  );
});

test("the registry accepts the issuer's tokens, for the granted scopes only", async () => {
  registry.issuer.clearRequests();
  const granted = await token(
    ["repository:test/app:pull,push", "repository:other/app:pull"],
    basic("alice", "alice-pw"),
  );
  assert.equal(granted.status, 200);
  assert.equal(await registryStatus("/v2/", granted.token), 200);
  // Unknown repository but authorised: the registry looks and says NAME_UNKNOWN.
  assert.equal(await registryStatus("/v2/test/app/tags/list", granted.token), 404);
  assert.equal(await registryStatus("/v2/other/app/tags/list", granted.token), 401);
  assert.deepEqual(registry.issuer.requests, [
    {
      method: "GET",
      service: registry.issuer.service,
      scopes: ["repository:test/app:pull,push", "repository:other/app:pull"],
      credentialsSent: true,
      username: "alice",
      grantType: undefined,
      status: 200,
      granted: [{ type: "repository", name: "test/app", actions: ["pull", "push"] }],
    },
  ]);
});

test("space-separated scopes in one parameter count as several", async () => {
  registry.issuer.clearRequests();
  const granted = await token(["repository:bob/x:pull repository:test/y:pull"], basic("bob", "bob-pw"));
  assert.equal(granted.status, 200);
  assert.deepEqual(registry.issuer.requests[0]?.scopes, ["repository:bob/x:pull", "repository:test/y:pull"]);
  assert.equal(registry.issuer.requests[0]?.granted.length, 2);
});

test("a token whose claims were altered after signing is refused", async () => {
  const granted = await token(["repository:test/app:pull"], basic("alice", "alice-pw"));
  const [header, claims, signature] = granted.token!.split(".");
  const widened = JSON.parse(Buffer.from(claims!, "base64url").toString("utf8")) as { access: unknown[] };
  widened.access.push({ type: "repository", name: "other/app", actions: ["pull"] });
  const forged = `${header}.${Buffer.from(JSON.stringify(widened)).toString("base64url")}.${signature}`;
  assert.equal(await registryStatus("/v2/test/app/tags/list", granted.token), 404);
  assert.equal(await registryStatus("/v2/other/app/tags/list", forged), 401);
  assert.equal(await registryStatus("/v2/test/app/tags/list", forged), 401);
});

test("wrong passwords and anonymous requests are refused when anonymous access is off", async () => {
  registry.issuer.clearRequests();
  assert.equal((await token(["repository:test/app:pull"], basic("alice", "bob-pw"))).status, 401);
  assert.equal((await token(["repository:test/app:pull"], basic("mallory", "x"))).status, 401);
  assert.equal((await token(["repository:test/app:pull"])).status, 401);
  assert.deepEqual(
    registry.issuer.requests.map((r) => [r.credentialsSent, r.username, r.status]),
    [
      [true, undefined, 401],
      [true, undefined, 401],
      [false, undefined, 401],
    ],
  );
});

test("the refresh-token grant stands in for a password", async () => {
  const form = new URLSearchParams({
    grant_type: "refresh_token",
    refresh_token: registry.issuer.refreshTokenFor("bob"),
    service: registry.issuer.service,
    scope: "repository:bob/app:pull",
    client_id: "test",
  });
  const response = await fetch(registry.issuer.realm, { method: "POST", body: form });
  const body = (await response.json()) as { access_token: string };
  assert.equal(response.status, 200);
  assert.equal(await registryStatus("/v2/bob/app/tags/list", body.access_token), 404);
});

test("scopes parse with colons in names, and the ACL grants per subject", () => {
  assert.deepEqual(parseScope("repository:test/app:pull,push"), {
    type: "repository",
    name: "test/app",
    actions: ["pull", "push"],
  });
  assert.deepEqual(parseScope("repository(plugin):host:5000/x:pull"), {
    type: "repository",
    name: "host:5000/x",
    actions: ["pull"],
  });
  assert.equal(parseScope("nonsense"), undefined);
  const acl = [
    { subject: "anonymous", repository: "public/*", actions: ["pull"] },
    { subject: "*", repository: "test/*", actions: ["pull", "push"] },
  ];
  const want = [
    { type: "repository", name: "public/a", actions: ["pull", "push"] },
    { type: "repository", name: "test/a", actions: ["pull", "push", "delete"] },
    { type: "registry", name: "catalog", actions: ["*"] },
  ];
  assert.deepEqual(grantAccess(acl, undefined, want), [
    { type: "repository", name: "public/a", actions: ["pull"] },
  ]);
  assert.deepEqual(grantAccess(acl, "someone", want), [
    { type: "repository", name: "test/a", actions: ["pull", "push"] },
  ]);
});
