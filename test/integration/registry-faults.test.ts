import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import { RegistryError, RegistryTarget, Reference } from "../../src/api/registry.js";
import { blobsOf, makeImage, pushImage } from "./registry-images.js";
import { faultTools, faultyClient, useRegistryBehindProxy } from "./registry-setup.js";

const bench = useRegistryBehindProxy();
const { rule, via, faults, assertStored } = faultTools(bench);

test("500 and 503 answers are retried until the push succeeds", async () => {
  const client = faultyClient();
  rule("HEAD", /^\/v2\/faults\/5xx\/blobs\//, { kind: "status", status: 500 });
  rule("PUT", /^\/v2\/faults\/5xx\/blobs\/uploads\//, { kind: "status", status: 500 }, 2);
  rule("PUT", /^\/v2\/faults\/5xx\/manifests\//, {
    kind: "status",
    status: 503,
    body: '{"errors":[{"code":"UNAVAILABLE"}]}',
  });
  const image = await makeImage();
  await pushImage(new RegistryTarget(client, via("faults/5xx")), image);
  assert.equal(faults("faults/5xx", "status"), 4);
  await assertStored("faults/5xx", image);
});

test("429 with Retry-After is waited for as the registry asks", async () => {
  const client = faultyClient();
  const image = await makeImage();
  await pushImage(
    new RegistryTarget(bench.direct, Reference.parse(`${bench.registry.host}/faults/429`)),
    image,
  );
  rule("GET", /^\/v2\/faults\/429\/manifests\//, {
    kind: "status",
    status: 429,
    headers: { "retry-after": "2" },
  });
  rule("HEAD", /^\/v2\/faults\/429\/blobs\//, {
    kind: "status",
    status: 429,
    headers: { "retry-after": new Date(Date.now() + 60_000).toUTCString() },
  });
  const fetched = await client.getManifest(
    { registry: bench.proxy.host, repository: "faults/429" },
    image.manifest.descriptor.digest,
  );
  assert.deepEqual(fetched.bytes, image.manifest.bytes);
  assert.deepEqual(client.clock.slept, [2000]);
  assert.equal(
    await client.hasBlob(
      { registry: bench.proxy.host, repository: "faults/429" },
      image.config.descriptor.digest,
    ),
    true,
  );
  assert.ok(
    client.clock.slept[1]! > 50_000 && client.clock.slept[1]! <= 60_000,
    String(client.clock.slept[1]),
  );
});

test("a connection dropped mid-upload restarts the upload from a new session", async () => {
  for (const chunked of [false, true]) {
    const repository = chunked ? "faults/drop-chunked" : "faults/drop";
    const client = faultyClient({ chunked, chunkSize: 2048 });
    const image = await makeImage();
    const target = new RegistryTarget(client, via(repository));
    // The small config goes first, so the cut lands inside a layer larger than 1500 bytes.
    await target.putBlob(image.config.descriptor, () => Promise.resolve(Readable.from([image.config.bytes])));
    rule(chunked ? "PATCH" : "PUT", new RegExp(`^/v2/${repository}/blobs/uploads/`), {
      kind: "drop",
      afterBytes: 1500,
    });
    await pushImage(target, image);
    assert.equal(faults(repository, "drop"), 1);
    const posts = bench.proxy.requests.filter(
      (r) => r.method === "POST" && r.path.startsWith(`/v2/${repository}/blobs/uploads/`),
    );
    assert.equal(posts.length, blobsOf(image).length + 1, "one extra session for the restarted upload");
    await assertStored(repository, image);
  }
});

test("slow replies time out and are retried; endless slowness ends in REGISTRY_UNAVAILABLE", async () => {
  const client = faultyClient({ timeoutMs: 400, retry: { maxAttempts: 2 } });
  const image = await makeImage();
  await pushImage(
    new RegistryTarget(bench.direct, Reference.parse(`${bench.registry.host}/faults/slow`)),
    image,
  );
  const location = { registry: bench.proxy.host, repository: "faults/slow" };
  rule("GET", /^\/v2\/faults\/slow\/manifests\//, { kind: "delay", ms: 1200 });
  assert.deepEqual(
    (await client.getManifest(location, image.manifest.descriptor.digest)).bytes,
    image.manifest.bytes,
  );
  rule("GET", /^\/v2\/faults\/slow\/blobs\//, { kind: "delay", ms: 1200 }, Infinity);
  const error = await client.openBlob(location, image.config.descriptor).then(
    () => assert.fail("expected a timeout"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RegistryError && error.code === "REGISTRY_UNAVAILABLE", String(error));
  assert.match(error.message, /faults\/slow\/blobs/);
});

test("a connection lost mid-body is retried for manifests and a typed error for blob streams", async () => {
  const client = faultyClient();
  const image = await makeImage();
  await pushImage(
    new RegistryTarget(bench.direct, Reference.parse(`${bench.registry.host}/faults/cut`)),
    image,
  );
  const location = { registry: bench.proxy.host, repository: "faults/cut" };
  rule("GET", /^\/v2\/faults\/cut\/manifests\//, { kind: "truncate" });
  assert.deepEqual(
    (await client.getManifest(location, image.manifest.descriptor.digest)).bytes,
    image.manifest.bytes,
  );
  assert.equal(faults("faults/cut", "truncate"), 1);
  rule("GET", /^\/v2\/faults\/cut\/blobs\//, { kind: "truncate" });
  const stream = await client.openBlob(location, image.layers[1]!.descriptor);
  await assert.rejects(
    async () => {
      for await (const _chunk of stream) {
        // the cut shows up while reading
      }
    },
    (e) => isPolypackError(e, "REGISTRY_UNAVAILABLE"),
  );
});

test("a registry that keeps failing gives a clear typed error naming the blob", async () => {
  const client = faultyClient();
  const image = await makeImage();
  rule("PUT", /^\/v2\/faults\/down\/blobs\/uploads\//, { kind: "status", status: 500 }, Infinity);
  const layer = image.layers[0]!;
  const error = await new RegistryTarget(client, via("faults/down"))
    .putBlob(layer.descriptor, () => Promise.resolve(Readable.from([layer.bytes])))
    .then(
      () => assert.fail("expected a failure"),
      (e: unknown) => e,
    );
  assert.ok(error instanceof RegistryError);
  assert.equal(error.code, "REGISTRY_UNAVAILABLE");
  assert.equal(error.status, 500);
  assert.ok(error.message.includes(layer.descriptor.digest), error.message);
  assert.equal(faults("faults/down", "status"), 4);
});
