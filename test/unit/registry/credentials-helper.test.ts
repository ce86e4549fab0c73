import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { ContainersAuthProvider } from "../../../src/registry/credentials/containers-auth.js";
import { DockerConfigProvider, dockerConfigPath } from "../../../src/registry/credentials/docker-config.js";
import { interpretHelperResult, runCredentialHelper } from "../../../src/registry/credentials/helper.js";
import { tempDir } from "../../support/tmp.js";

// A real helper program: answers by server URL and logs each call so tests can count them.
const HELPER_SCRIPT = `#!/bin/sh
read -r server
echo "$1 $server" >> "$HELPER_LOG"
case "$server" in
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hubuser","Secret":"hubpass"}' "$server" ;;
  token.example) printf '{"Username":"<token>","Secret":"refresh-123"}' ;;
  store.example) printf '{"Username":"store-user","Secret":"store-pass"}' ;;
  empty.example) printf '{"Username":"","Secret":""}' ;;
  broken.example) echo "keychain is locked" >&2; exit 3 ;;
  garbage.example) echo "not json at all" ;;
  slow.example) exec sleep 30 ;;
  leaky.example) printf '{"Username":"u","Secret":"leaked-secret-42"}'; echo "  store is read-only  " >&2; exit 2 ;;
  leaky-quiet.example) printf '{"Username":"u","Secret":"leaked-secret-42"}'; exit 2 ;;
  env.example) env > "$HELPER_LOG.env"; printf '{"Username":"u","Secret":"s"}' ;;
  spawner.example) sleep 60 & echo $! > "$HELPER_LOG.child"; wait ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

async function installHelper(bin: string, name: string, script: string): Promise<void> {
  const path = join(bin, `docker-credential-${name}`);
  await writeFile(path, script);
  await chmod(path, 0o755);
}

/** A temporary PATH holding docker-credential-test and -store, and the log they append to. */
async function setUpHelpers(): Promise<{ env: NodeJS.ProcessEnv; log: string }> {
  const dir = await tempDir();
  const bin = join(dir, "bin");
  await mkdir(bin);
  await installHelper(bin, "test", HELPER_SCRIPT);
  await installHelper(bin, "store", HELPER_SCRIPT);
  const log = join(dir, "helper.log");
  return { env: { PATH: `${bin}${delimiter}${process.env["PATH"] ?? ""}`, HELPER_LOG: log }, log };
}

// Set up at module level: tempDir's cleanup then runs when the whole file is done.
const { env, log } = await setUpHelpers();

async function calls(): Promise<string[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "");
}

test("runs docker-credential-<name> get with the server URL on stdin", async () => {
  assert.deepEqual(await runCredentialHelper("test", "https://index.docker.io/v1/", { env }), {
    username: "hubuser",
    password: "hubpass",
  });
  assert.ok((await calls()).includes("get https://index.docker.io/v1/"));
});

test("a <token> username makes the secret an identity token", async () => {
  assert.deepEqual(await runCredentialHelper("test", "token.example", { env }), {
    identityToken: "refresh-123",
  });
});

test("'credentials not found' and an empty secret mean no credential", async () => {
  assert.equal(await runCredentialHelper("test", "unknown.example", { env }), undefined);
  assert.equal(await runCredentialHelper("test", "empty.example", { env }), undefined);
});

test("helper failures are CREDENTIAL_HELPER_FAILED naming the helper", async () => {
  const failsWith = (pattern: RegExp) => (error: unknown) =>
    isPolypackError(error, "CREDENTIAL_HELPER_FAILED") &&
    error.message.includes("docker-credential-") &&
    pattern.test(error.message);
  await assert.rejects(
    runCredentialHelper("test", "broken.example", { env }),
    failsWith(/docker-credential-test exited with code 3: keychain is locked/),
  );
  await assert.rejects(
    runCredentialHelper("test", "garbage.example", { env }),
    failsWith(/docker-credential-test printed something that is not JSON/),
  );
  await assert.rejects(
    runCredentialHelper("missing", "ghcr.io", { env }),
    failsWith(/docker-credential-missing was not found on PATH/),
  );
  await assert.rejects(
    runCredentialHelper("../../bin/sh", "ghcr.io", { env }),
    failsWith(/has an invalid name/),
  );
});

test("a helper that hangs is killed after the time limit", async () => {
  const started = Date.now();
  await assert.rejects(
    runCredentialHelper("test", "slow.example", { env, timeoutMs: 300 }),
    (error) =>
      isPolypackError(error, "CREDENTIAL_HELPER_FAILED") && /did not answer within 0.3 s/.test(error.message),
  );
  assert.ok(Date.now() - started < 10_000);
});

test("a helper that fails after printing its answer never has its stdout quoted", async () => {
  for (const server of ["leaky.example", "leaky-quiet.example"]) {
    await assert.rejects(runCredentialHelper("test", server, { env }), (error) => {
      assert.ok(isPolypackError(error, "CREDENTIAL_HELPER_FAILED"), String(error));
      assert.doesNotMatch(error.message, /leaked-secret-42|Username/);
      assert.doesNotMatch(JSON.stringify(error.toJSON()), /leaked-secret-42/);
      assert.match(error.message, /exited with code 2/);
      return true;
    });
  }
  // stderr is still shown, trimmed.
  await assert.rejects(runCredentialHelper("test", "leaky.example", { env }), (error) =>
    isPolypackError(error) ? error.message.endsWith("exited with code 2: store is read-only") : false,
  );
});

test("a helper gets the environment without polypack's secrets", async () => {
  await runCredentialHelper("test", "env.example", {
    env: {
      ...env,
      POLYPACK_REGISTRY_PASSWORD: "pw-1",
      POLYPACK_REGISTRY_USERNAME: "user-1",
      POLYPACK_SRC_CREDS: "a:pw-2",
      POLYPACK_DEST_CREDS: "b:pw-3",
      POLYPACK_REGISTRY: "kept.example",
      HOME_OF_HELPER: "kept",
    },
  });
  const seen = await readFile(`${log}.env`, "utf8");
  assert.doesNotMatch(seen, /pw-1|user-1|pw-2|pw-3/);
  assert.match(seen, /POLYPACK_REGISTRY=kept.example/);
  assert.match(seen, /HOME_OF_HELPER=kept/);
});

test("a helper that times out is killed together with the processes it started", async () => {
  await assert.rejects(runCredentialHelper("test", "spawner.example", { env, timeoutMs: 500 }), (error) =>
    isPolypackError(error, "CREDENTIAL_HELPER_FAILED"),
  );
  const pid = Number((await readFile(`${log}.child`, "utf8")).trim());
  assert.ok(pid > 0);
  // SIGKILL is delivered at once, but give the kernel a moment to reap it.
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    alive = isAlive(pid);
    if (alive) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(alive, false, `the helper's child ${pid} still runs`);
});

/** Whether a process exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return !/^\d+ \(.*\) Z/.test(stat);
}

test("interpreting helper output is pure", () => {
  const result = { exitCode: 0, stderr: "", timedOut: false };
  assert.deepEqual(interpretHelperResult("x", { ...result, stdout: '{"Username":"u","Secret":"s"}' }, 1000), {
    username: "u",
    password: "s",
  });
  assert.throws(
    () => interpretHelperResult("x", { ...result, stdout: '{"Username":"u"}' }, 1000),
    (error) =>
      isPolypackError(error, "CREDENTIAL_HELPER_FAILED") && error.message.includes("docker-credential-x"),
  );
  assert.throws(
    () => interpretHelperResult("x", { ...result, stdout: "super-secret" }, 1000),
    (error) => isPolypackError(error) && !error.message.includes("super-secret"),
  );
  assert.equal(
    interpretHelperResult(
      "x",
      { ...result, exitCode: 1, stdout: "credentials not found in native keychain\n" },
      1000,
    ),
    undefined,
  );
});

test("Docker config: credHelpers, then credsStore, then auths, each passing on when it has nothing", async () => {
  const dir = await tempDir();
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": {},
        "plain.example": { auth: Buffer.from("file-user:file-pass").toString("base64") },
        "store.example": { auth: Buffer.from("shadowed:by-store").toString("base64") },
      },
      credHelpers: { "token.example": "test", "unknown.example": "test", "broken.example": "test" },
      credsStore: "store",
    }),
  );
  const file = dockerConfigPath({ DOCKER_CONFIG: dir }, "/nonexistent-home");
  assert.equal(file, join(dir, "config.json"));
  const provider = new DockerConfigProvider({
    file,
    runHelper: (helper, serverUrl) => runCredentialHelper(helper, serverUrl, { env }),
  });
  const callsBefore = (await calls()).length;
  assert.deepEqual(await provider.get("token.example"), { identityToken: "refresh-123" });
  assert.deepEqual(await provider.get("store.example"), { username: "store-user", password: "store-pass" });
  assert.deepEqual(await provider.get("docker.io"), { username: "hubuser", password: "hubpass" });
  assert.deepEqual(await provider.get("plain.example"), { username: "file-user", password: "file-pass" });
  // credHelpers has nothing, neither has the store, nor the file.
  assert.equal(await provider.get("unknown.example"), undefined);
  await assert.rejects(provider.get("broken.example"), (error) =>
    isPolypackError(error, "CREDENTIAL_HELPER_FAILED"),
  );
  // Answers are remembered: asking again, under an alias, does not run a helper again.
  assert.deepEqual(await provider.get("registry-1.docker.io"), { username: "hubuser", password: "hubpass" });
  assert.deepEqual(await provider.get("index.docker.io"), { username: "hubuser", password: "hubpass" });
  assert.deepEqual((await calls()).slice(callsBefore), [
    "get token.example",
    "get store.example",
    "get https://index.docker.io/v1/",
    "get plain.example",
    "get unknown.example",
    "get unknown.example",
    "get broken.example",
  ]);
});

test("Docker config: a missing file means no credentials, a broken one is an error naming it", async () => {
  const dir = await tempDir();
  const missing = new DockerConfigProvider({ file: dockerConfigPath({}, dir) });
  assert.equal(dockerConfigPath({}, dir), join(dir, ".docker", "config.json"));
  assert.equal(await missing.get("ghcr.io"), undefined);
  const file = join(dir, "broken.json");
  await writeFile(file, '{"auths": {"ghcr.io": {"auth": "%%%"}}}');
  await assert.rejects(
    new DockerConfigProvider({ file }).get("ghcr.io"),
    (error) => isPolypackError(error, "CREDENTIALS_INVALID") && error.message.includes(file),
  );
});

test("containers auth.json: credHelpers run the real helper with the bare host, then fall back", async () => {
  const dir = await tempDir();
  const first = join(dir, "auth.json");
  const second = join(dir, "fallback.json");
  await writeFile(
    first,
    JSON.stringify({
      credHelpers: { "token.example": "test", "docker.io": "test", "broken.example": "test" },
    }),
  );
  await writeFile(
    second,
    JSON.stringify({ auths: { "docker.io": { auth: Buffer.from("file-hub:pw").toString("base64") } } }),
  );
  const provider = new ContainersAuthProvider({
    files: [first, second],
    runHelper: (helper, serverUrl) => runCredentialHelper(helper, serverUrl, { env }),
  });
  const callsBefore = (await calls()).length;
  assert.deepEqual(await provider.get("token.example"), { identityToken: "refresh-123" });
  // The script knows the Hub only by Docker's v1 URL, so "docker.io" is not found and the next file answers.
  assert.deepEqual(await provider.get("index.docker.io"), { username: "file-hub", password: "pw" });
  await assert.rejects(
    provider.get("broken.example"),
    (error) =>
      isPolypackError(error, "CREDENTIAL_HELPER_FAILED") &&
      /docker-credential-test exited with code 3: keychain is locked/.test(error.message),
  );
  assert.deepEqual((await calls()).slice(callsBefore), [
    "get token.example",
    "get docker.io",
    "get broken.example",
  ]);
});
