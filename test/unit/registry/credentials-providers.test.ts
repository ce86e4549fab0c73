import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import {
  ContainersAuthProvider,
  containersAuthFilePaths,
} from "../../../src/registry/credentials/containers-auth.js";
import { defaultCredentialProvider } from "../../../src/registry/credentials/default.js";
import {
  DockerConfigProvider,
  legacyDockerConfigPath,
} from "../../../src/registry/credentials/docker-config.js";
import { credentialHelperFailed } from "../../../src/registry/credentials/errors.js";
import {
  bindExplicitCredentials,
  credentialFromEnvironment,
  StaticCredentialProvider,
} from "../../../src/registry/credentials/explicit.js";
import { readTextFileIfExists, type ReadTextFile } from "../../../src/registry/credentials/files.js";
import type { CredentialHelperRunner } from "../../../src/registry/credentials/helper.js";
import type { Credential } from "../../../src/registry/credentials/types.js";
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

/** An in-memory {@link ReadTextFile} over path → document; unlisted paths do not exist. Records reads. */
function memoryFiles(files: Record<string, unknown>): { readFile: ReadTextFile; reads: string[] } {
  const reads: string[] = [];
  const readFile: ReadTextFile = (path) => {
    reads.push(path);
    const document = files[path];
    if (document === undefined) return Promise.resolve(undefined);
    return Promise.resolve(typeof document === "string" ? document : JSON.stringify(document));
  };
  return { readFile, reads };
}

/**
 * A helper runner answering from a table keyed "helper serverUrl" (absent: nothing, an Error: thrown);
 * every call is recorded in the same form.
 */
function tableHelpers(answers: Record<string, Credential | Error>): {
  runHelper: CredentialHelperRunner;
  calls: string[];
} {
  const calls: string[] = [];
  const runHelper: CredentialHelperRunner = (helper, serverUrl) => {
    const key = `${helper} ${serverUrl}`;
    calls.push(key);
    const answer = answers[key];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  return { runHelper, calls };
}

test("containers auth files: a credHelpers helper serves its host only, auths serve the rest", async () => {
  const { readFile } = memoryFiles({
    "/auth.json": {
      ...(authFile({
        "helper.example": ["shadowed", "x"],
        "helper.example/org/app": ["shadowed-repo", "x"],
        "plain.example": ["plain", "1"],
      }) as object),
      credHelpers: { "helper.example": "vault", "https://INDEX.docker.io/v1/": "hub" },
    },
  });
  const { runHelper, calls } = tableHelpers({
    "vault helper.example": { username: "vault-user", password: "2" },
    "hub docker.io": { identityToken: "hub-token" },
  });
  const provider = new ContainersAuthProvider({ files: ["/auth.json"], readFile, runHelper });
  assert.deepEqual(await provider.get("helper.example"), { username: "vault-user", password: "2" });
  // The helper is for the whole registry, so it also beats a repository entry of the same file.
  assert.equal((await provider.get("HELPER.example", "org/app"))?.username, "vault-user");
  assert.deepEqual(await provider.get("plain.example"), { username: "plain", password: "1" });
  assert.equal(await provider.get("other.example"), undefined);
  // containers-image passes the bare host, Docker Hub included.
  assert.deepEqual(await provider.get("registry-1.docker.io"), { identityToken: "hub-token" });
  // Answers are remembered per helper and host.
  assert.deepEqual(calls, ["vault helper.example", "hub docker.io"]);
});

test("containers auth files: the first file naming a helper for the host wins, file order is kept", async () => {
  const { readFile } = memoryFiles({
    "/first.json": {
      ...(authFile({ "b.example": ["shadowed", "x"], "c.example": ["first-file", "1"] }) as object),
      credHelpers: { "a.example": "first", "b.example": "empty" },
    },
    "/second.json": {
      ...(authFile({ "b.example": ["second-file", "2"] }) as object),
      credHelpers: { "a.example": "second", "c.example": "second" },
    },
    "/third.json": authFile({ "b.example": ["third-file", "3"] }),
  });
  const { runHelper, calls } = tableHelpers({
    "first a.example": { username: "first-helper", password: "4" },
    "second a.example": { username: "second-helper", password: "5" },
    "second c.example": { username: "second-helper", password: "6" },
  });
  const provider = new ContainersAuthProvider({
    files: ["/first.json", "/second.json", "/third.json"],
    readFile,
    runHelper,
  });
  assert.equal((await provider.get("a.example"))?.username, "first-helper");
  // An earlier file's auths entry comes before a later file's helper.
  assert.equal((await provider.get("c.example"))?.username, "first-file");
  // A named helper with nothing replaces its own file's entry and passes on to the next file.
  assert.equal((await provider.get("b.example"))?.username, "second-file");
  assert.deepEqual(calls, ["first a.example", "empty b.example"]);
});

test("containers auth files: a failing helper stops the lookup with its error, as in Docker's config", async () => {
  const failure = credentialHelperFailed(
    "docker-credential-locked",
    "exited with code 3: keychain is locked",
  );
  const { readFile } = memoryFiles({
    "/home/.docker/config.json": { credHelpers: { "docker-side.example": "locked" } },
    // XDG_RUNTIME_DIR's file is searched first: its failing helper must not give way to the later entry.
    "/run/containers/auth.json": { credHelpers: { "containers-side.example": "locked" } },
    "/home/.config/containers/auth.json": authFile({ "containers-side.example": ["later", "x"] }),
  });
  const { runHelper, calls } = tableHelpers({
    "locked docker-side.example": failure,
    "locked containers-side.example": failure,
  });
  const provider = defaultCredentialProvider({
    homeDir: "/home",
    env: { XDG_RUNTIME_DIR: "/run" },
    readFile,
    runHelper,
  });
  for (const host of ["docker-side.example", "containers-side.example"]) {
    await assert.rejects(
      provider.get(host),
      (error) =>
        isPolypackError(error, "CREDENTIAL_HELPER_FAILED") && /keychain is locked/.test(error.message),
      host,
    );
  }
  // The failure is remembered like an answer: the locked keychain is not asked again.
  await assert.rejects(provider.get("containers-side.example"), (error) => error === failure);
  assert.equal(calls.length, 2);
});

test("legacy ~/.dockercfg is used only when config.json does not exist", async () => {
  const legacy = {
    "https://index.docker.io/v1/": { auth: basic("old-hub", "1"), email: "me@example.com" },
    "ghcr.io": { auth: basic("old-ghcr", "2") },
  };
  assert.equal(legacyDockerConfigPath("/home"), "/home/.dockercfg");

  const alone = memoryFiles({ "/home/.dockercfg": legacy });
  const fromLegacy = new DockerConfigProvider({
    file: "/home/.docker/config.json",
    legacyFile: "/home/.dockercfg",
    readFile: alone.readFile,
  });
  assert.deepEqual(await fromLegacy.get("docker.io"), { username: "old-hub", password: "1" });
  assert.deepEqual(await fromLegacy.get("ghcr.io"), { username: "old-ghcr", password: "2" });
  assert.equal(await fromLegacy.get("quay.io"), undefined);

  // Even a config.json with nothing for the host hides the legacy file entirely.
  for (const config of [{}, authFile({ "quay.io": ["new-quay", "3"] })]) {
    const both = memoryFiles({ "/home/.docker/config.json": config, "/home/.dockercfg": legacy });
    const fromConfig = new DockerConfigProvider({
      file: "/home/.docker/config.json",
      legacyFile: "/home/.dockercfg",
      readFile: both.readFile,
    });
    assert.equal(await fromConfig.get("ghcr.io"), undefined);
    assert.ok(!both.reads.includes("/home/.dockercfg"));
  }

  // The default provider looks for it in the home directory, whatever DOCKER_CONFIG says.
  const home = memoryFiles({ "/home/.dockercfg": legacy });
  const provider = defaultCredentialProvider({
    homeDir: "/home",
    env: { DOCKER_CONFIG: "/elsewhere" },
    readFile: home.readFile,
  });
  assert.equal((await provider.get("ghcr.io"))?.username, "old-ghcr");
  assert.deepEqual(home.reads.slice(0, 2), ["/elsewhere/config.json", "/home/.dockercfg"]);
});

test("a malformed legacy ~/.dockercfg is CREDENTIALS_INVALID naming the file and key", async () => {
  const cases: Array<[unknown, RegExp]> = [
    ["{", /^\/home\/\.dockercfg is not valid JSON/],
    [["ghcr.io"], /^\/home\/\.dockercfg must contain a JSON object/],
    [{ "ghcr.io": "x" }, /^\/home\/\.dockercfg: \["ghcr\.io"\] must be an object/],
    [{ "ghcr.io": { auth: "%%%" } }, /^\/home\/\.dockercfg: \["ghcr\.io"\]\.auth is not valid base64/],
  ];
  for (const [document, message] of cases) {
    const { readFile } = memoryFiles({ "/home/.dockercfg": document });
    const provider = new DockerConfigProvider({
      file: "/home/.docker/config.json",
      legacyFile: "/home/.dockercfg",
      readFile,
    });
    await assert.rejects(
      provider.get("ghcr.io"),
      (error) => isPolypackError(error, "CREDENTIALS_INVALID") && message.test(error.message),
      JSON.stringify(document),
    );
  }
});

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

test("a credentials path that cannot be read is PATH_UNREADABLE, a missing one is nothing", async () => {
  const root = await tree({ "dir/file.json": {} });
  assert.equal(await readTextFileIfExists(join(root, "nope.json")), undefined);
  assert.equal(await readTextFileIfExists(join(root, "dir/file.json/below")), undefined);
  await assert.rejects(readTextFileIfExists(join(root, "dir")), (error) =>
    isPolypackError(error, "PATH_UNREADABLE"),
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
