import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import type { Credential } from "../../src/registry/credentials/types.js";
import {
  RegistryClient,
  RegistryError,
  RegistrySource,
  RegistryTarget,
  Reference,
} from "../../src/api/registry.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startHtpasswdRegistry, type RegistryHandle } from "../support/registry.js";
import { makeImage, makeIndex, pushIndex, type TestBlob } from "./registry-images.js";

let registry: RegistryHandle & { username: string; password: string };
let proxy: FaultProxy;

const credentialsFor = (host: string, credential: Credential) => ({
  get: (asked: string) => Promise.resolve(asked === host ? credential : undefined),
});

before(async () => {
  registry = await startHtpasswdRegistry();
  proxy = await startFaultProxy(registry.url);
});
after(async () => {
  await proxy.stop();
  await registry.stop();
});

function clientWith(credential: Credential | undefined): RegistryClient {
  const client = new RegistryClient(
    credential ? { credentials: credentialsFor(proxy.host, credential) } : {},
  );
  after(() => client.close());
  return client;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("pushes and reads an index with basic credentials, sent once the registry asks", async () => {
  const client = clientWith({ username: registry.username, password: registry.password });
  const reference = Reference.parse(`${proxy.host}/auth/app:1.0`);
  const images = [await makeImage(), await makeImage({ os: "linux", architecture: "arm64" })];
  const index = makeIndex(images);
  await pushIndex(new RegistryTarget(client, reference), images, index, ["1.0"]);
  const source = new RegistrySource(client, reference);
  assert.deepEqual(await source.fetchManifest(await source.resolve()), index.bytes);
  const mine = proxy.requests.filter((r) => r.path.startsWith("/v2/auth/app/"));
  assert.equal(mine[0]!.headers.authorization, undefined, "the first request goes out anonymous");
  assert.equal(mine[0]!.status, 401);
  assert.ok(
    mine.slice(1).every((r) => r.headers.authorization?.startsWith("Basic ")),
    "later ones carry credentials",
  );
  assert.equal(mine.filter((r) => r.status === 401).length, 1, "one handshake for the whole push");
});

test("a wrong password is a typed unauthorized error without the password or a stack trace", async () => {
  const client = clientWith({ username: registry.username, password: "wrong-password-123" });
  const source = new RegistrySource(client, Reference.parse(`${proxy.host}/auth/app:1.0`));
  const error = await source.resolve().then(
    () => assert.fail("expected a failure"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RegistryError);
  assert.equal(error.code, "REGISTRY_UNAUTHORIZED");
  assert.equal(error.status, 401);
  assert.equal(error.internal, false);
  assert.ok(error.hint?.includes("credentials"));
  assert.ok(!error.message.includes("wrong-password-123"));
  assert.ok(!error.message.includes("\n    at "), error.message);
  assert.deepEqual(Object.keys(error.toJSON()).sort(), ["code", "hint", "message"]);
});

test("without credentials a protected registry answers with REGISTRY_UNAUTHORIZED", async () => {
  const target = new RegistryTarget(clientWith(undefined), Reference.parse(`${proxy.host}/auth/anon`));
  const image = await makeImage();
  await assert.rejects(target.hasBlob(image.config.descriptor), (e) =>
    isPolypackError(e, "REGISTRY_UNAUTHORIZED"),
  );
});

/** A stand-in for blob storage on another host: serves one blob and remembers request headers. */
async function startStorage(
  blob: TestBlob,
  tamper = false,
): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const body = Buffer.from(blob.bytes);
    if (tamper) body.writeUInt8(body.readUInt8(10) ^ 1, 10);
    res
      .writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test("a blob redirected to another host is fetched without the Authorization header", async () => {
  const client = clientWith({ username: registry.username, password: registry.password });
  const image = await makeImage();
  await pushIndex(
    new RegistryTarget(client, Reference.parse(`${proxy.host}/auth/redirect`)),
    [image],
    makeIndex([image]),
    ["r"],
  );
  const layer = image.layers[0]!;
  const storage = await startStorage(layer);
  proxy.rules.push({
    method: "GET",
    path: /^\/v2\/auth\/redirect\/blobs\//,
    action: { kind: "redirect", to: storage.url },
  });
  const source = new RegistrySource(client, Reference.parse(`${proxy.host}/auth/redirect:r`));
  assert.deepEqual(await readAll(await source.openBlob(layer.descriptor)), layer.bytes);
  const redirected = proxy.requests.find((r) => r.fault === "redirect");
  assert.ok(redirected?.headers.authorization?.startsWith("Basic "), "the registry itself got credentials");
  assert.equal(storage.seen.length, 1);
  assert.equal(storage.seen[0]!.authorization, undefined);

  // Storage that always hands out other bytes is caught by the digest check (a writer may then
  // fetch it again: the failure is one a second read could cure).
  const bad = await startStorage(layer, true);
  proxy.rules.push({
    method: "GET",
    path: /^\/v2\/auth\/redirect\/blobs\//,
    action: { kind: "redirect", to: bad.url },
    times: Infinity,
  });
  const quick = new RegistryClient({
    credentials: credentialsFor(proxy.host, { username: registry.username, password: registry.password }),
    retry: { maxAttempts: 2, baseDelayMs: 10 },
  });
  after(() => quick.close());
  const quickSource = new RegistrySource(quick, Reference.parse(`${proxy.host}/auth/redirect:r`));
  await assert.rejects(
    async () => readAll(await quickSource.openBlob(layer.descriptor)),
    (e) => isPolypackError(e, "DIGEST_MISMATCH") && quickSource.refetchable(e),
  );
  assert.equal(bad.seen.length, 1);
  assert.ok(bad.seen.every((headers) => headers.authorization === undefined));
});
