import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isPolypackError } from "../../../src/errors/index.js";
import {
  findAuthEntry,
  parseAuthFile,
  parseLegacyDockerConfig,
} from "../../../src/registry/credentials/auth-file.js";
import { helperServerUrl, parseAuthKey } from "../../../src/registry/credentials/host.js";

const FILE = "/home/me/.docker/config.json";

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString("base64");
}

function parse(document: unknown) {
  return parseAuthFile(JSON.stringify(document), FILE);
}

test("auth keys fold Docker Hub aliases and URLs into hosts", () => {
  const cases: Array<[string, string, string]> = [
    ["https://index.docker.io/v1/", "docker.io", ""],
    ["index.docker.io", "docker.io", ""],
    ["registry-1.docker.io", "docker.io", ""],
    ["docker.io", "docker.io", ""],
    ["GHCR.io", "ghcr.io", ""],
    ["http://localhost:5000", "localhost:5000", ""],
    ["https://registry.example:5000/v2/", "registry.example:5000", ""],
    ["127.0.0.1:5000", "127.0.0.1:5000", ""],
    ["quay.io/org/app", "quay.io", "org/app"],
    ["quay.io/org/", "quay.io", "org"],
  ];
  for (const [key, host, path] of cases) {
    assert.deepEqual(parseAuthKey(key), { host, path }, key);
  }
  assert.equal(helperServerUrl("index.docker.io"), "https://index.docker.io/v1/");
  assert.equal(helperServerUrl("ghcr.io"), "ghcr.io");
});

test("reads every credential form of an auths entry", () => {
  const contents = parse({
    auths: {
      "https://index.docker.io/v1/": { auth: basic("hub", "p:a:ss") },
      "ghcr.io": { username: "gh", password: "tok" },
      "registry.example": { identitytoken: "refresh-me" },
      "other.example": { registrytoken: "bearer-me" },
      "placeholder.example": {},
    },
    credHelpers: { "https://gcr.io": "gcloud", "123.dkr.ecr.example": "ecr-login" },
    credsStore: "desktop",
  });
  const byHost = Object.fromEntries(contents.auths.map((entry) => [entry.host, entry.credential]));
  assert.deepEqual(byHost, {
    "docker.io": { username: "hub", password: "p:a:ss" },
    "ghcr.io": { username: "gh", password: "tok" },
    "registry.example": { identityToken: "refresh-me" },
    "other.example": { registryToken: "bearer-me" },
    "placeholder.example": undefined,
  });
  assert.deepEqual(
    [...contents.credHelpers],
    [
      ["gcr.io", "gcloud"],
      ["123.dkr.ecr.example", "ecr-login"],
    ],
  );
  assert.equal(contents.credsStore, "desktop");
});

test("an empty or absent document section means no credentials", () => {
  const contents = parse({});
  assert.deepEqual(contents.auths, []);
  assert.equal(contents.credHelpers.size, 0);
  assert.equal(contents.credsStore, undefined);
  assert.equal(parse({ credsStore: "" }).credsStore, undefined);
});

test("malformed files fail with CREDENTIALS_INVALID naming the file and key", () => {
  const cases: Array<[string, RegExp]> = [
    ["{ not json", /config\.json is not valid JSON/],
    ["[]", /config\.json must contain a JSON object/],
    [JSON.stringify({ auths: [] }), /config\.json: auths must be an object/],
    [JSON.stringify({ auths: { "ghcr.io": "x" } }), /auths\["ghcr\.io"\] must be an object/],
    [
      JSON.stringify({ auths: { "ghcr.io": { auth: "!!notbase64!!" } } }),
      /auths\["ghcr\.io"\]\.auth is not valid base64/,
    ],
    [
      JSON.stringify({ auths: { "ghcr.io": { auth: Buffer.from("nocolon").toString("base64") } } }),
      /auths\["ghcr\.io"\]\.auth does not decode to "username:password"/,
    ],
    [
      JSON.stringify({ auths: { "ghcr.io": { username: 7 } } }),
      /auths\["ghcr\.io"\]\.username must be a string/,
    ],
    [JSON.stringify({ credHelpers: { "gcr.io": 1 } }), /credHelpers\["gcr\.io"\] must be a helper name/],
    [JSON.stringify({ credsStore: true }), /credsStore must be a helper name/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseAuthFile(text, FILE),
      (error) =>
        isPolypackError(error, "CREDENTIALS_INVALID") &&
        error.message.includes(FILE) &&
        message.test(error.message),
      text,
    );
  }
});

test("a file that is not JSON is named, with the problem's place, but none of its content", () => {
  const cases: Array<[string, RegExp]> = [
    ["ghp_SuperSecretToken123", /is not valid JSON: it has a syntax error$/],
    ['{"auths": {"ghcr.io": {"auth": "c2VjcmV0OnB3"}}', /after property value at line 1, column 48$/],
    ['{"auths": {"ghcr.io": {"auth": "c2Vj', /unterminated string at line 1, column 37$/],
    ['{"auths": ', /ends before the JSON is complete/],
    ['{\n  "auths": {"ghcr.io": {"password": "hunter2"}}\n  "x": 1}', /at line 3, column 3$/],
    ['{"password": "hunter2",}', /expected double-quoted property name at line 1, column 24$/],
    ['{"auths": {}} hunter2', /unexpected non-whitespace character after JSON at line 1, column 15$/],
  ];
  for (const [text, message] of cases) {
    for (const parse of [parseAuthFile, parseLegacyDockerConfig]) {
      assert.throws(
        () => parse(text, FILE),
        (error) => {
          assert.ok(isPolypackError(error, "CREDENTIALS_INVALID"), String(error));
          assert.ok(error.message.startsWith(`${FILE} is not valid JSON: `), error.message);
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /Secret|hunter2|c2Vj|ghp_/);
          return true;
        },
        text,
      );
    }
  }
});

test("a legacy .dockercfg holds auths entries at the top level and no helpers", () => {
  const file = "/home/me/.dockercfg";
  const contents = parseLegacyDockerConfig(
    JSON.stringify({
      "https://index.docker.io/v1/": { auth: basic("hub", "p:w"), email: "me@example.com" },
      "registry.example:5000": { auth: basic("local", "pw"), email: "" },
    }),
    file,
  );
  assert.deepEqual(
    contents.auths.map(({ key, host, credential }) => [key, host, credential]),
    [
      ["https://index.docker.io/v1/", "docker.io", { username: "hub", password: "p:w" }],
      ["registry.example:5000", "registry.example:5000", { username: "local", password: "pw" }],
    ],
  );
  assert.equal(contents.credHelpers.size, 0);
  assert.equal(contents.credsStore, undefined);
  assert.equal(findAuthEntry(contents.auths, "index.docker.io")?.credential?.username, "hub");
  // The email was only ever informational, so an odd one does not make the entry unusable.
  const odd = parseLegacyDockerConfig(
    JSON.stringify({ "ghcr.io": { auth: basic("x", "y"), email: 3 } }),
    file,
  );
  assert.deepEqual(odd.auths[0]?.credential, { username: "x", password: "y" });
});

test("a malformed legacy .dockercfg fails with CREDENTIALS_INVALID naming the file and key", () => {
  const file = "/home/me/.dockercfg";
  const cases: Array<[string, RegExp]> = [
    ["", /\.dockercfg is not valid JSON/],
    ["null", /\.dockercfg must contain a JSON object/],
    [JSON.stringify({ "ghcr.io": [] }), /\.dockercfg: \["ghcr\.io"\] must be an object/],
    [JSON.stringify({ "ghcr.io": { auth: "a b" } }), /\.dockercfg: \["ghcr\.io"\]\.auth is not valid base64/],
    [
      JSON.stringify({ "ghcr.io": { auth: Buffer.from("nocolon").toString("base64") } }),
      /\["ghcr\.io"\]\.auth does not decode to "username:password"/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseLegacyDockerConfig(text, file),
      (error) =>
        isPolypackError(error, "CREDENTIALS_INVALID") &&
        error.message.startsWith(file) &&
        message.test(error.message),
      text,
    );
  }
});

test("the most specific repository key wins, whole-registry keys serve host lookups", () => {
  const { auths } = parse({
    auths: {
      "quay.io": { auth: basic("registry", "1") },
      "quay.io/org": { auth: basic("org", "2") },
      "quay.io/org/app": { auth: basic("app", "3") },
      "quay.io/empty": {},
      "ghcr.io/only/repo": { auth: basic("repo", "4") },
    },
  });
  const user = (host: string, repository?: string) =>
    findAuthEntry(auths, host, repository)?.credential?.username;
  assert.equal(user("quay.io"), "registry");
  assert.equal(user("quay.io", "org/app"), "app");
  assert.equal(user("quay.io", "org/app/sub"), "app");
  assert.equal(user("quay.io", "org/application"), "org");
  assert.equal(user("quay.io", "org/other"), "org");
  assert.equal(user("quay.io", "empty/thing"), "registry");
  assert.equal(user("QUAY.IO", "elsewhere"), "registry");
  assert.equal(user("ghcr.io"), undefined);
  assert.equal(user("ghcr.io", "only/repo"), "repo");
  assert.equal(user("docker.io"), undefined);
});

test("property: any username without a colon and any password survive the auth encoding", () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1 }).filter((s) => !s.includes(":")),
      fc.string(),
      (username, password) => {
        const { auths } = parse({ auths: { "example.test": { auth: basic(username, password) } } });
        assert.deepEqual(auths[0]?.credential, { username, password });
      },
    ),
  );
});
