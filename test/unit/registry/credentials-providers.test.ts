import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors.js";
import {
  ContainersAuthProvider,
  containersAuthFilePaths,
} from "../../../src/registry/credentials/containers-auth.js";
import { defaultCredentialProvider } from "../../../src/registry/credentials/default.js";
import {
  bindExplicitCredentials,
  credentialFromEnvironment,
  StaticCredentialProvider,
} from "../../../src/registry/credentials/explicit.js";
import { readTextFileIfExists } from "../../../src/registry/credentials/files.js";
import type { CredentialHelperRunner } from "../../../src/registry/credentials/helper.js";
import { tempDir } from "../../support/tmp.js";

function basic(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString("base64");
}

/** Writes JSON files given as path → document under a fresh temporary directory. */
async function tree(files: Record<string, unknown>): Promise<string> {
  const root = await tempDir();
  for (const [path, document] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof document === "string" ? document : JSON.stringify(document));
  }
  return root;
}

function authFile(entries: Record<string, [string, string]>): unknown {
  return {
    auths: Object.fromEntries(Object.entries(entries).map(([key, [u, p]]) => [key, { auth: basic(u, p) }])),
  };
}

test("containers auth files are searched in order: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, ~/.config", async () => {
  const root = await tree({
    "custom/auth.json": authFile({ "a.example": ["custom", "1"] }),
    "run/containers/auth.json": authFile({ "a.example": ["runtime", "2"], "b.example": ["runtime", "3"] }),
    "home/.config/containers/auth.json": authFile({
      "b.example": ["home", "4"],
      "c.example": ["home", "5"],
      "quay.io/org/app": ["home-app", "6"],
    }),
  });
  const env = { REGISTRY_AUTH_FILE: join(root, "custom/auth.json"), XDG_RUNTIME_DIR: join(root, "run") };
  const files = containersAuthFilePaths(env, join(root, "home"));
  assert.deepEqual(files, [
    join(root, "custom/auth.json"),
    join(root, "run/containers/auth.json"),
    join(root, "home/.config/containers/auth.json"),
  ]);
  const provider = new ContainersAuthProvider({ files });
  assert.equal((await provider.get("a.example"))?.username, "custom");
  assert.equal((await provider.get("b.example"))?.username, "runtime");
  assert.equal((await provider.get("c.example"))?.username, "home");
  assert.equal(await provider.get("quay.io"), undefined);
  assert.equal((await provider.get("quay.io", "org/app"))?.username, "home-app");
  assert.equal(await provider.get("d.example"), undefined);
  assert.deepEqual(containersAuthFilePaths({}, "/h"), ["/h/.config/containers/auth.json"]);
});

test("containers auth files are read only as far as needed", async () => {
  const root = await tree({
    "first.json": authFile({ "a.example": ["first", "1"] }),
    "broken.json": "{",
  });
  const provider = new ContainersAuthProvider({
    files: [join(root, "first.json"), join(root, "broken.json")],
  });
  assert.equal((await provider.get("a.example"))?.username, "first");
  await assert.rejects(
    provider.get("b.example"),
    (error) =>
      isPolypackError(error, "CREDENTIALS_INVALID") && error.message.includes(join(root, "broken.json")),
  );
});

test("a credentials path that cannot be read is CREDENTIALS_UNREADABLE, a missing one is nothing", async () => {
  const root = await tree({ "dir/file.json": {} });
  assert.equal(await readTextFileIfExists(join(root, "nope.json")), undefined);
  assert.equal(await readTextFileIfExists(join(root, "dir/file.json/below")), undefined);
  await assert.rejects(readTextFileIfExists(join(root, "dir")), (error) =>
    isPolypackError(error, "CREDENTIALS_UNREADABLE"),
  );
});

test("environment credentials are read as a pair and limited to POLYPACK_REGISTRY", () => {
  assert.equal(credentialFromEnvironment({}), undefined);
  assert.deepEqual(
    credentialFromEnvironment({ POLYPACK_REGISTRY_USERNAME: "ci", POLYPACK_REGISTRY_PASSWORD: "pw" }),
    { username: "ci", password: "pw" },
  );
  assert.deepEqual(
    credentialFromEnvironment({
      POLYPACK_REGISTRY_USERNAME: "ci",
      POLYPACK_REGISTRY_PASSWORD: "pw",
      POLYPACK_REGISTRY: "ghcr.io",
    }),
    { registry: "ghcr.io", username: "ci", password: "pw" },
  );
  assert.throws(
    () => credentialFromEnvironment({ POLYPACK_REGISTRY_USERNAME: "ci" }),
    (error) => isPolypackError(error, "CREDENTIALS_INVALID") && /PASSWORD is not/.test(error.message),
  );
  assert.throws(
    () => credentialFromEnvironment({ POLYPACK_REGISTRY_PASSWORD: "pw" }),
    (error) => isPolypackError(error, "CREDENTIALS_INVALID") && /USERNAME is not/.test(error.message),
  );
});

test("explicit credentials go only to the host they belong to", async () => {
  const provider = new StaticCredentialProvider(
    bindExplicitCredentials(
      [
        { registry: "index.docker.io", username: "hub", password: "1" },
        { username: "target", password: "2" },
        { registry: "ghcr.io", username: "later", password: "3" },
      ],
      "ghcr.io",
    ),
  );
  assert.deepEqual(await provider.get("docker.io"), { username: "hub", password: "1" });
  assert.deepEqual(await provider.get("GHCR.IO"), { username: "target", password: "2" });
  assert.equal(await provider.get("quay.io"), undefined);
  assert.throws(
    () => bindExplicitCredentials([{ username: "u", password: "p" }], undefined),
    (error) => isPolypackError(error, "CREDENTIALS_REGISTRY_REQUIRED"),
  );
});

test("default provider precedence: flags > environment > Docker config > containers auth files", async () => {
  const home = await tree({
    ".docker/config.json": {
      ...(authFile({
        "flag.example": ["docker", "x"],
        "env.example": ["docker", "x"],
        "docker.example": ["docker", "1"],
      }) as object),
      credHelpers: { "helper.example": "fake" },
    },
    ".config/containers/auth.json": authFile({
      "docker.example": ["containers", "x"],
      "helper.example": ["containers", "x"],
      "containers.example": ["containers", "2"],
    }),
  });
  const asked: string[] = [];
  const runHelper: CredentialHelperRunner = (helper, serverUrl) => {
    asked.push(`${helper} ${serverUrl}`);
    return Promise.resolve({ username: "helper", password: "3" });
  };
  const provider = defaultCredentialProvider({
    homeDir: home,
    env: {
      POLYPACK_REGISTRY_USERNAME: "env",
      POLYPACK_REGISTRY_PASSWORD: "4",
      POLYPACK_REGISTRY: "env.example",
    },
    explicit: { username: "flag", password: "5" },
    defaultRegistry: "flag.example",
    runHelper,
  });
  const user = async (host: string) => (await provider.get(host))?.username;
  assert.equal(await user("flag.example"), "flag");
  assert.equal(await user("env.example"), "env");
  assert.equal(await user("helper.example"), "helper");
  assert.equal(await user("docker.example"), "docker");
  assert.equal(await user("containers.example"), "containers");
  assert.equal(await user("nothing.example"), undefined);
  assert.deepEqual(asked, ["fake helper.example"]);
});

test("default provider honours DOCKER_CONFIG and refuses unscoped flags without a default registry", async () => {
  const root = await tree({ "elsewhere/config.json": authFile({ "ghcr.io": ["moved", "1"] }) });
  const provider = defaultCredentialProvider({
    homeDir: join(root, "home"),
    env: { DOCKER_CONFIG: join(root, "elsewhere") },
  });
  assert.equal((await provider.get("ghcr.io"))?.username, "moved");
  assert.throws(
    () => defaultCredentialProvider({ homeDir: root, env: {}, explicit: { username: "u", password: "p" } }),
    (error) => isPolypackError(error, "CREDENTIALS_REGISTRY_REQUIRED"),
  );
});
