/**
 * The registry client against a real distribution registry serving HTTPS with a certificate from a
 * throw-away CA: trust through `caFile` (and the CLI's --ca-file), no downgrade to plain HTTP when
 * the certificate is not trusted, skopeo trusting the same CA, and the one-probe fallback to plain
 * HTTP for a loopback registry without TLS.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { Digest } from "../../src/oci/digest.js";
import {
  RegistryClient,
  RegistryTarget,
  Reference,
  type RegistryClientOptions,
  type RequestLogEvent,
} from "../../src/api/registry.js";
import { createTestCertificates, type TestCertificates } from "../support/certificates.js";
import { writeRandomIndex } from "../support/images.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { polypack } from "../support/cli.js";
import { blobsOf, makeImage, makeIndex, pushIndex } from "./registry-images.js";

let certs: TestCertificates;
let secure: RegistryHandle;
let plain: RegistryHandle;
let work: string;

before(async () => {
  work = await tempDir();
  certs = await createTestCertificates(work);
  [secure, plain] = await Promise.all([
    startRegistry({ tls: { certificate: certs.certificate, key: certs.key, ca: certs.ca } }),
    startRegistry(),
  ]);
});
after(async () => {
  await secure?.stop();
  await plain?.stop();
});

/** A client whose every exchange is recorded, closed after the file's tests. */
function loggedClient(options: RegistryClientOptions = {}): RegistryClient & { events: RequestLogEvent[] } {
  const events: RequestLogEvent[] = [];
  const client = new RegistryClient({ ...options, log: (event) => events.push(event) });
  after(() => client.close());
  return Object.assign(client, { events });
}

/** Reads a whole blob stream. */
async function bytesOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("with the CA, a loopback TLS registry is pushed to and pulled from over HTTPS", async () => {
  assert.match(secure.url, /^https:/);
  const client = loggedClient({ caFile: certs.ca });
  const images = [await makeImage(), await makeImage({ os: "linux", architecture: "arm64" })];
  const index = makeIndex(images);
  const reference = Reference.parse(`${secure.host}/tls/app`);
  await pushIndex(new RegistryTarget(client, reference), images, index, ["v1"]);

  const location = { registry: secure.host, repository: "tls/app" };
  const fetched = await client.getManifest(location, "v1");
  assert.deepEqual(fetched.bytes, index.bytes);
  for (const blob of images.flatMap(blobsOf)) {
    const stream = await client.openBlob(location, blob.descriptor);
    assert.deepEqual(await bytesOf(stream as AsyncIterable<Buffer>), blob.bytes);
  }
  assert.ok(client.events.length > 10);
  assert.deepEqual(
    client.events.filter((e) => !e.url.startsWith(`https://${secure.host}/`)),
    [],
    "every request went over https to the registry",
  );
  assert.ok(client.events.every((e) => e.error === undefined && e.status !== undefined && e.status < 500));

  // The certificate also names localhost, which travels as SNI rather than as an address.
  const byName = loggedClient({ caFile: certs.ca });
  const port = secure.host.split(":")[1]!;
  const viaName = await byName.headManifest({ registry: `localhost:${port}`, repository: "tls/app" }, "v1");
  assert.equal(viaName?.digest, index.descriptor.digest);
  assert.ok(byName.events.every((e) => e.url.startsWith(`https://localhost:${port}/`)));
});

test("without the CA the certificate is REGISTRY_TLS_UNTRUSTED and nothing goes over plain HTTP", async () => {
  const client = loggedClient();
  await assert.rejects(
    client.headManifest({ registry: secure.host, repository: "tls/app" }, "v1"),
    (e) =>
      isPolypackError(e, "REGISTRY_TLS_UNTRUSTED") &&
      e.message.includes(secure.host) &&
      /--ca-file/.test(e.hint ?? ""),
  );
  assert.deepEqual(
    client.events.filter((e) => e.url.startsWith("http:")),
    [],
    "no downgrade to http",
  );
});

test("a host named insecure is reached over HTTPS without checking its certificate", async () => {
  const client = loggedClient({ insecure: [secure.host] });
  const images = [await makeImage()];
  await pushIndex(
    new RegistryTarget(client, Reference.parse(`${secure.host}/tls/insecure`)),
    images,
    makeIndex(images),
    ["v1"],
  );
  assert.ok(client.events.length > 0);
  assert.ok(client.events.every((e) => e.url.startsWith(`https://${secure.host}/`)));
});

test("skopeo, trusting the same CA through --cert-dir, reads what the client pushed", async () => {
  const client = loggedClient({ caFile: certs.ca });
  const images = [await makeImage(), await makeImage({ os: "linux", architecture: "arm", variant: "v7" })];
  const index = makeIndex(images);
  await pushIndex(new RegistryTarget(client, Reference.parse(`${secure.host}/tls/skopeo`)), images, index, [
    "1.0",
  ]);
  const certDir = join(work, "skopeo-certs");
  await mkdir(certDir, { recursive: true });
  await copyFile(certs.ca, join(certDir, "ca.crt"));
  const image = `docker://${secure.host}/tls/skopeo:1.0`;
  const raw = await run("skopeo", ["inspect", "--cert-dir", certDir, "--raw", image]);
  assert.equal(raw, index.bytes.toString("utf8"));
  const arm = JSON.parse(
    await run("skopeo", ["inspect", "--cert-dir", certDir, "--override-arch", "arm", image]),
  ) as { Architecture: string };
  assert.equal(arm.Architecture, "arm");
});

test("the CLI copies to and inspects a TLS registry with --ca-file, and fails typed without it", async () => {
  const layout = join(work, "layout");
  const target = await LayoutTarget.create(layout);
  const seeded = await writeRandomIndex(target, {
    platforms: ["linux/amd64", "linux/arm64"],
    layerSizes: [50_000],
    tag: "v1",
  });
  await target.commit();
  const destination = `${secure.host}/tls/cli:v1`;

  const copied = await polypack(["--ca-file", certs.ca, "--json", "copy", `oci:${layout}:v1`, destination]);
  assert.equal(copied.code, 0, copied.stderr);
  assert.equal(
    (JSON.parse(copied.stdout) as { root: { digest: string } }).root.digest,
    seeded.descriptor.digest,
  );
  const inspected = await polypack(["--ca-file", certs.ca, "manifest", "inspect", destination]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.match(inspected.stdout, /linux\/arm64/);

  const refused = await polypack(["manifest", "inspect", destination]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /error\[REGISTRY_TLS_UNTRUSTED/, refused.stderr);
  assert.match(refused.stderr, /--ca-file/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");

  const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${destination}`]);
  assert.equal(Digest.of(raw).toString(), seeded.descriptor.digest);
});

/** A TCP relay in front of a registry that counts connections opening with a TLS handshake record. */
async function handshakeCountingRelay(upstream: string): Promise<{ host: string; handshakes: () => number }> {
  const [upstreamHost, upstreamPort] = upstream.split(":") as [string, string];
  let handshakes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (first: Buffer) => {
      // 0x16 is the content type of a TLS handshake record, the first byte of every ClientHello.
      if (first[0] === 0x16) handshakes++;
      const registry = connect(Number(upstreamPort), upstreamHost);
      sockets.add(registry);
      registry.on("error", () => socket.destroy());
      registry.once("close", () => (sockets.delete(registry), socket.destroy()));
      registry.write(first);
      socket.pipe(registry).pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, handshakes: () => handshakes };
}

test("a plain-HTTP loopback registry costs one TLS probe per client, shared by concurrent requests", async () => {
  const relay = await handshakeCountingRelay(plain.host);
  const client = loggedClient();
  const images = [await makeImage(), await makeImage({ os: "linux", architecture: "arm64" })];
  const index = makeIndex(images);
  const location = { registry: relay.host, repository: "plain/app" };
  const started = Date.now();
  // Many first requests at once: they must wait for one probe, not each start their own.
  const found = await Promise.all(
    images.flatMap(blobsOf).map((blob) => client.hasBlob(location, blob.descriptor.digest)),
  );
  assert.deepEqual(
    found,
    found.map(() => false),
  );
  await pushIndex(new RegistryTarget(client, Reference.parse(`${relay.host}/plain/app`)), images, index, [
    "v1",
  ]);
  assert.deepEqual((await client.getManifest(location, "v1")).bytes, index.bytes);
  const elapsed = Date.now() - started;

  assert.equal(relay.handshakes(), 1, "one TLS handshake attempt for the whole session");
  assert.ok(client.events.length > 10);
  assert.deepEqual(
    client.events.filter((e) => !e.url.startsWith(`http://${relay.host}/`)),
    [],
  );
  assert.ok(elapsed < 5000, `a small push through the fallback took ${elapsed} ms`);
  await client.hasBlob(location, images[0]!.config.descriptor.digest);
  assert.equal(relay.handshakes(), 1, "the scheme is remembered");
});
