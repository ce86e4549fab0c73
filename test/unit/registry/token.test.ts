import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { mergeScopes, parseTokenReply, tokenHttpRequest } from "../../../src/registry/token.js";

const realm = new URL("https://auth.example.com/token?account=x");
const now = 1_000_000;

test("reads token or access_token with expires_in, defaulting to 60 seconds", () => {
  assert.deepEqual(parseTokenReply(Buffer.from('{"token":"t1","expires_in":300}'), now, realm), {
    value: "t1",
    expiresAt: now + 290_000,
  });
  assert.equal(parseTokenReply(Buffer.from('{"access_token":"t2"}'), now, realm).expiresAt, now + 50_000);
  assert.equal(parseTokenReply(Buffer.from('{"token":"","access_token":"t3"}'), now, realm).value, "t3");
  assert.equal(
    parseTokenReply(Buffer.from('{"token":"t4","expires_in":4}'), now, realm).expiresAt,
    now + 2000,
  );
  for (const bad of ["not json", "{}", '{"token":5}']) {
    assert.throws(
      () => parseTokenReply(Buffer.from(bad), now, realm),
      (e) => isPolypackError(e, "AUTH_TOKEN_INVALID"),
    );
  }
});

test("the GET form keeps the realm's own query and adds service and each scope", () => {
  const request = tokenHttpRequest(
    { realm, service: "reg", scopes: ["repository:a:pull", "repository:b:pull,push"] },
    undefined,
  );
  assert.equal(request.method, "GET");
  assert.equal(request.url.searchParams.get("account"), "x");
  assert.equal(request.url.searchParams.get("service"), "reg");
  assert.deepEqual(request.url.searchParams.getAll("scope"), ["repository:a:pull", "repository:b:pull,push"]);
  assert.equal(request.headers?.["authorization"], undefined);
});

test("merges scopes per resource with sorted actions", () => {
  assert.deepEqual(
    mergeScopes([
      "repository:a:push",
      "repository:b:pull",
      "repository:a:pull",
      "repository:a:pull,push",
      "junk",
    ]),
    ["repository:a:pull,push", "repository:b:pull"],
  );
  assert.deepEqual(mergeScopes(["registry:catalog:*"]), ["registry:catalog:*"]);
});
