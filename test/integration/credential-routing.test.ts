/**
 * Which credentials reach which registry: two real htpasswd registries, each behind a recording
 * proxy, one the source and one the destination of `copy` and `manifest create`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RegistryClient, RegistryTarget, Reference } from "../../src/api/registry.js";
import { polypack } from "../support/cli.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startHtpasswdRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { makeImage, makeIndex, pushIndex, type TestImage } from "./registry-images.js";

type Protected = RegistryHandle & { username: string; password: string };

let source: Protected;
let destination: Protected;
let sourceProxy: FaultProxy;
let destinationProxy: FaultProxy;
let image: TestImage;
let isolated: NodeJS.ProcessEnv;

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

before(async () => {
  source = await startHtpasswdRegistry({ username: "alice", password: "source-Pass-1" });
  destination = await startHtpasswdRegistry({ username: "bob", password: "dest-Pass-2" });
  sourceProxy = await startFaultProxy(source.url);
  destinationProxy = await startFaultProxy(destination.url);
  const client = new RegistryClient({
    credentials: { get: () => Promise.resolve({ username: source.username, password: source.password }) },
  });
  image = await makeImage();
  await pushIndex(
    new RegistryTarget(client, Reference.parse(`${source.host}/src/app`)),
    [image],
    makeIndex([image]),
    ["v1"],
  );
  await client.close();
  // No Docker or containers credentials from this machine may take part.
  const home = await tempDir();
  isolated = {
    HOME: home,
    DOCKER_CONFIG: home,
    REGISTRY_AUTH_FILE: `${home}/none.json`,
    XDG_RUNTIME_DIR: home,
  };
});
after(async () => {
  await sourceProxy.stop();
  await destinationProxy.stop();
  await source.stop();
  await destination.stop();
});

/** Every Authorization header each proxy saw since the marks. */
function seen(marks: { source: number; destination: number }): { source: string[]; destination: string[] } {
  const auth = (proxy: FaultProxy, from: number): string[] =>
    proxy.requests.slice(from).flatMap((r) => (r.headers.authorization ? [r.headers.authorization] : []));
  return { source: auth(sourceProxy, marks.source), destination: auth(destinationProxy, marks.destination) };
}

function mark(): { source: number; destination: number } {
  return { source: sourceProxy.requests.length, destination: destinationProxy.requests.length };
}

const aliceHeader = (): string => basic(source.username, source.password);
const bobHeader = (): string => basic(destination.username, destination.password);

/** Runs polypack with the isolated environment plus `env`, expecting success. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = await polypack(args, { env: { ...isolated, ...env } });
  assert.equal(result.code, 0, result.stderr);
}

function assertOnly(headers: string[], expected: string, side: string): void {
  assert.ok(headers.length > 0, `${side} got credentials`);
  assert.deepEqual([...new Set(headers)], [expected], `${side} got only its own credentials`);
}

test("--username/--password go to the destination only; --src-creds to the source only", async () => {
  const marks = mark();
  await run([
    "--username",
    destination.username,
    "--password",
    destination.password,
    "copy",
    "--src-creds",
    `${source.username}:${source.password}`,
    `${sourceProxy.host}/src/app:v1`,
    `${destinationProxy.host}/dst/app:v1`,
  ]);
  const headers = seen(marks);
  assertOnly(headers.source, aliceHeader(), "the source");
  assertOnly(headers.destination, bobHeader(), "the destination");
});

test("unscoped POLYPACK_REGISTRY_* credentials never reach the source, with or without POLYPACK_REGISTRY", async () => {
  for (const registryVariable of [{}, { POLYPACK_REGISTRY: destinationProxy.host }]) {
    const marks = mark();
    await run(["copy", `${sourceProxy.host}/src/app:v1`, `${destinationProxy.host}/dst/env:v1`], {
      ...registryVariable,
      POLYPACK_REGISTRY_USERNAME: destination.username,
      POLYPACK_REGISTRY_PASSWORD: destination.password,
      POLYPACK_SRC_CREDS: `${source.username}:${source.password}`,
    });
    const headers = seen(marks);
    assertOnly(headers.source, aliceHeader(), "the source");
    assertOnly(headers.destination, bobHeader(), "the destination");
  }
});

test("POLYPACK_REGISTRY naming the source sends the unscoped credentials there and nowhere else", async () => {
  const marks = mark();
  await run(
    [
      "copy",
      "--dest-creds",
      `${destination.username}:${destination.password}`,
      `${sourceProxy.host}/src/app:v1`,
      `${destinationProxy.host}/dst/named:v1`,
    ],
    {
      POLYPACK_REGISTRY: sourceProxy.host,
      POLYPACK_REGISTRY_USERNAME: source.username,
      POLYPACK_REGISTRY_PASSWORD: source.password,
    },
  );
  const headers = seen(marks);
  assertOnly(headers.source, aliceHeader(), "the source");
  assertOnly(headers.destination, bobHeader(), "the destination");
});

test("manifest create sends --username to the target registry only, POLYPACK_SRC_CREDS to the sources", async () => {
  const marks = mark();
  await run(
    [
      "--username",
      destination.username,
      "--password",
      destination.password,
      "manifest",
      "create",
      "--publish",
      `${destinationProxy.host}/dst/joined:v1`,
      `${sourceProxy.host}/src/app@${image.manifest.descriptor.digest}`,
    ],
    { POLYPACK_SRC_CREDS: `${source.username}:${source.password}` },
  );
  const headers = seen(marks);
  assertOnly(headers.source, aliceHeader(), "the source");
  assertOnly(headers.destination, bobHeader(), "the destination");
});

test("without source credentials the source is asked anonymously and the copy fails unauthorized", async () => {
  const marks = mark();
  const result = await polypack(
    [
      "--username",
      destination.username,
      "--password",
      destination.password,
      "copy",
      `${sourceProxy.host}/src/app:v1`,
      `${destinationProxy.host}/dst/anon:v1`,
    ],
    { env: isolated },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /REGISTRY_UNAUTHORIZED/);
  assert.deepEqual(seen(marks).source, [], "the destination's password never went to the source");
});

test("a --src-creds value without a colon is a usage error that does not echo it", async () => {
  const result = await polypack(["copy", "--src-creds", "hunter2-secret", "a.example/x:1", "b.example/y:1"], {
    env: isolated,
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--src-creds expects USER:PASSWORD/);
  assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
});

test("a reference with user:password@ is refused without echoing them, in text and JSON", async () => {
  const result = await polypack(
    [
      "--json",
      "copy",
      `docker://alice:hunter2-pw@${sourceProxy.host}/src/app:v1`,
      `${destinationProxy.host}/dst/x:v1`,
    ],
    { env: isolated },
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /error\[REFERENCE_INVALID\]/);
  assert.doesNotMatch(result.stderr + result.stdout, /hunter2|alice/);
});
