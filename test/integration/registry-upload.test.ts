import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { RegistryClient, RegistrySource, RegistryTarget, Reference } from "../../src/api/registry.js";
import { blobsOf, makeImage, opener, pushImage } from "./registry-images.js";
import { useRegistryBehindProxy } from "./registry-setup.js";

const bench = useRegistryBehindProxy();

const at = (host: string, repository: string): Reference => Reference.parse(`${host}/${repository}`);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("pushes blobs with one PUT, finds them afterwards and reads them back verified", async () => {
  const target = new RegistryTarget(bench.direct, at(bench.proxy.host, "upload/mono"));
  const image = await makeImage();
  assert.deepEqual(await pushImage(target, image), ["uploaded", "uploaded", "uploaded"]);
  assert.deepEqual(await pushImage(target, image), ["exists", "exists", "exists"]);
  const source = new RegistrySource(bench.direct, at(bench.registry.host, "upload/mono"));
  for (const blob of blobsOf(image)) {
    assert.ok(await target.hasBlob(blob.descriptor));
    assert.deepEqual(await readAll(await source.openBlob(blob.descriptor)), blob.bytes);
  }
  const puts = bench.proxy.requests.filter(
    (r) => r.method === "PUT" && r.path.startsWith("/v2/upload/mono/blobs/uploads/"),
  );
  assert.equal(puts.length, 3);
  assert.ok(!bench.proxy.requests.some((r) => r.method === "PATCH" && r.path.startsWith("/v2/upload/mono/")));
});

test("pushes blobs in chunks when asked, with Content-Range on every PATCH", async () => {
  const chunked = new RegistryClient({ chunked: true, chunkSize: 1024 });
  after(() => chunked.close());
  const image = await makeImage();
  await pushImage(new RegistryTarget(chunked, at(bench.proxy.host, "upload/chunked")), image);
  const patches = bench.proxy.requests.filter(
    (r) => r.method === "PATCH" && r.path.startsWith("/v2/upload/chunked/"),
  );
  const total = blobsOf(image).reduce((n, b) => n + Math.ceil(b.bytes.length / 1024), 0);
  assert.equal(patches.length, total);
  const ranges = patches.map((r) => r.headers["content-range"]);
  assert.ok(
    ranges.every((range) => /^\d+-\d+$/.test(range ?? "")),
    ranges.join(),
  );
  assert.ok(ranges.includes("0-1023") && ranges.includes("1024-2047"), ranges.join());
  for (const blob of blobsOf(image)) {
    assert.deepEqual(
      await readAll(
        await bench.direct.openBlob(
          { registry: bench.registry.host, repository: "upload/chunked" },
          blob.descriptor,
        ),
      ),
      blob.bytes,
    );
  }
});

test("honours the registry's OCI-Chunk-Min-Length over a smaller chunk size", async () => {
  const chunked = new RegistryClient({ chunked: true, chunkSize: 512 });
  after(() => chunked.close());
  const layer = (await makeImage()).layers[1]!;
  bench.proxy.rules.push({
    method: "POST",
    path: /^\/v2\/upload\/min-chunk\/blobs\/uploads\/$/,
    action: { kind: "headers", headers: { "oci-chunk-min-length": "2000" } },
  });
  const target = new RegistryTarget(chunked, at(bench.proxy.host, "upload/min-chunk"));
  assert.equal(await target.putBlob(layer.descriptor, opener(layer.bytes)), "uploaded");
  const ranges = bench.proxy.requests
    .filter((r) => r.method === "PATCH" && r.path.startsWith("/v2/upload/min-chunk/"))
    .map((r) => r.headers["content-range"]);
  const sizes = [0, 2000, 4000].filter((start) => start < layer.bytes.length);
  assert.deepEqual(
    ranges,
    sizes.map((start) => `${start}-${Math.min(start + 2000, layer.bytes.length) - 1}`),
  );
  assert.ok(await target.hasBlob(layer.descriptor));
});

test("falls back to chunks when the registry refuses a single PUT with 413", async () => {
  const image = await makeImage();
  const layer = image.layers[1]!;
  bench.proxy.rules.push({
    method: "PUT",
    path: /^\/v2\/upload\/fallback\/blobs\/uploads\/.*digest=/,
    action: { kind: "status", status: 413 },
  });
  const target = new RegistryTarget(bench.direct, at(bench.proxy.host, "upload/fallback"));
  assert.equal(await target.putBlob(layer.descriptor, opener(layer.bytes)), "uploaded");
  assert.ok(
    bench.proxy.requests.some((r) => r.method === "PATCH" && r.path.startsWith("/v2/upload/fallback/")),
  );
  assert.ok(await target.hasBlob(layer.descriptor));
});

test("mounts blobs across repositories of the same registry", async () => {
  const image = await makeImage();
  const from = new RegistryTarget(bench.direct, at(bench.proxy.host, "upload/mount-from"));
  await pushImage(from, image);
  const to = new RegistryTarget(bench.direct, at(bench.proxy.host, "upload/mount-to"));
  const layer = image.layers[0]!;
  assert.equal(
    await to.putBlob(layer.descriptor, opener(layer.bytes), { mountFrom: from.location }),
    "mounted",
  );
  const mount = bench.proxy.requests.find(
    (r) => r.method === "POST" && r.path.startsWith("/v2/upload/mount-to/blobs/uploads/?mount="),
  );
  assert.equal(mount?.status, 201);
  assert.ok(await to.hasBlob(layer.descriptor));
  // A source that lacks the blob: the registry opens an upload instead (202) and the bytes follow.
  const other = image.layers[1]!;
  const elsewhere = { registry: bench.proxy.host, repository: "upload/empty" };
  assert.equal(await to.putBlob(other.descriptor, opener(other.bytes), { mountFrom: elsewhere }), "uploaded");
  assert.ok(await to.hasBlob(other.descriptor));
});

test("concurrent pushes of one digest upload once; uploads run within the limit", async () => {
  const limited = new RegistryClient({ maxConcurrentUploads: 2 });
  after(() => limited.close());
  const target = new RegistryTarget(limited, at(bench.proxy.host, "upload/dedup"));
  const image = await makeImage();
  const layer = image.layers[0]!;
  const results = await Promise.all(
    Array.from({ length: 5 }, () => target.putBlob(layer.descriptor, opener(layer.bytes))),
  );
  assert.deepEqual(results.sort(), ["exists", "exists", "exists", "exists", "uploaded"]);
  assert.equal(
    bench.proxy.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v2/upload/dedup/")).length,
    1,
  );

  const blobs = [...(await makeImage()).layers, ...(await makeImage()).layers, ...(await makeImage()).layers];
  let open = 0;
  let most = 0;
  const counted = (bytes: Buffer) => () => {
    most = Math.max(most, ++open);
    const stream = Readable.from([bytes]);
    stream.once("close", () => open--);
    return Promise.resolve(stream);
  };
  await Promise.all(blobs.map((b) => target.putBlob(b.descriptor, counted(b.bytes))));
  assert.ok(most <= 2 && most >= 1, `at most 2 uploads at once, saw ${most}`);
});
