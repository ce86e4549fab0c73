import assert from "node:assert/strict";
import { test } from "node:test";
import { displayUri } from "../../../src/dependencies/source-uri.js";
import { isSecretName, redactUrl } from "../../../src/http/redact.js";

const SECRET_PARAMETERS = [
  "X-Amz-Security-Token",
  "X-Amz-Credential",
  "X-Amz-Signature",
  "X-Goog-Signature",
  "X-Goog-Credential",
  "api_key",
  "apikey",
  "apiKey",
  "token",
  "access_token",
  "sig",
  "Signature",
  "password",
  "passwd",
  "client_secret",
  "session_id",
  "auth",
];

test("dependency URLs lose userinfo and every secret-looking query value, and keep the rest readable", () => {
  const query = SECRET_PARAMETERS.map((name, i) => `${name}=hidden${i}value`).join("&");
  const uri = `https://user:pa55@cdn.example.com/dist/app-1.2.3.tgz?version=1.2.3&arch=arm64&${query}`;
  const shown = displayUri(uri);
  assert.doesNotMatch(shown, /hidden\d+value|pa55|user@/);
  assert.ok(shown.startsWith("https://cdn.example.com/dist/app-1.2.3.tgz?version=1.2.3&arch=arm64&"), shown);
  for (const name of SECRET_PARAMETERS) assert.ok(shown.includes(`${name}=REDACTED`), `${name} in ${shown}`);
});

test("the same rule serves registry logs and messages", () => {
  const url = new URL(
    "https://u:pw@storage.example/blob?X-Amz-Security-Token=abc&X-Amz-Date=20250101&expires=9",
  );
  assert.equal(
    redactUrl(url),
    "https://storage.example/blob?X-Amz-Security-Token=REDACTED&X-Amz-Date=20250101&expires=9",
  );
  for (const name of [
    "version",
    "arch",
    "os",
    "service",
    "scope",
    "expires",
    "X-Amz-Date",
    "digest",
    "mount",
  ]) {
    assert.equal(isSecretName(name), false, name);
  }
});
