import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { isPolypackError } from "../../src/errors.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  RegistryClient,
  RegistryError,
  RegistrySource,
  RegistryTarget,
  Reference,
} from "../../src/registry/index.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { blobsOf, makeImage, makeIndex, opener, pushImage, pushIndex } from "./registry-images.js";

let registry: RegistryHandle;
let proxy: FaultProxy;
let client: RegistryClient;

before(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  client = new RegistryClient();
});
after(async () => {
  await client.close();
  await proxy.stop();
  await registry.stop();
});

const at = (host: string, repository: string): Reference => Reference.parse(`${host}/${repository}`);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test("pushes blobs with one PUT, finds them afterwards and reads them back verified", async () => {
  const target = new RegistryTarget(client, at(proxy.host, "client/mono"));
  const image = await makeImage();
  assert.deepEqual(await pushImage(target, image), ["uploaded", "uploaded", "uploaded"]);
  assert.deepEqual(await pushImage(target, image), ["exists", "exists", "exists"]);
  const source = new RegistrySource(client, at(registry.host, "client/mono"));
  for (const blob of blobsOf(image)) {
    assert.ok(await target.hasBlob(blob.descriptor));
    assert.deepEqual(await readAll(await source.openBlob(blob.descriptor)), blob.bytes);
  }
  const puts = proxy.requests.filter(
    (r) => r.method === "PUT" && r.path.startsWith("/v2/client/mono/blobs/uploads/"),
  );
  assert.equal(puts.length, 3);
  assert.ok(!proxy.requests.some((r) => r.method === "PATCH" && r.path.startsWith("/v2/client/mono/")));
});

test("pushes blobs in chunks when asked, with Content-Range on every PATCH", async () => {
  const chunked = new RegistryClient({ chunked: true, chunkSize: 1024 });
  after(() => chunked.close());
  const image = await makeImage();
  await pushImage(new RegistryTarget(chunked, at(proxy.host, "client/chunked")), image);
  const patches = proxy.requests.filter(
    (r) => r.method === "PATCH" && r.path.startsWith("/v2/client/chunked/"),
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
        await client.openBlob({ registry: registry.host, repository: "client/chunked" }, blob.descriptor),
      ),
      blob.bytes,
    );
  }
});

test("honours the registry's OCI-Chunk-Min-Length over a smaller chunk size", async () => {
  const chunked = new RegistryClient({ chunked: true, chunkSize: 512 });
  after(() => chunked.close());
  const layer = (await makeImage()).layers[1]!;
  proxy.rules.push({
    method: "POST",
    path: /^\/v2\/client\/min-chunk\/blobs\/uploads\/$/,
    action: { kind: "headers", headers: { "oci-chunk-min-length": "2000" } },
  });
  const target = new RegistryTarget(chunked, at(proxy.host, "client/min-chunk"));
  assert.equal(await target.putBlob(layer.descriptor, opener(layer.bytes)), "uploaded");
  const ranges = proxy.requests
    .filter((r) => r.method === "PATCH" && r.path.startsWith("/v2/client/min-chunk/"))
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
  proxy.rules.push({
    method: "PUT",
    path: /^\/v2\/client\/fallback\/blobs\/uploads\/.*digest=/,
    action: { kind: "status", status: 413 },
  });
  const target = new RegistryTarget(client, at(proxy.host, "client/fallback"));
  assert.equal(await target.putBlob(layer.descriptor, opener(layer.bytes)), "uploaded");
  assert.ok(proxy.requests.some((r) => r.method === "PATCH" && r.path.startsWith("/v2/client/fallback/")));
  assert.ok(await target.hasBlob(layer.descriptor));
});

test("mounts blobs across repositories of the same registry", async () => {
  const image = await makeImage();
  const from = new RegistryTarget(client, at(proxy.host, "client/mount-from"));
  await pushImage(from, image);
  const to = new RegistryTarget(client, at(proxy.host, "client/mount-to"));
  const layer = image.layers[0]!;
  assert.equal(
    await to.putBlob(layer.descriptor, opener(layer.bytes), { mountFrom: from.location }),
    "mounted",
  );
  const mount = proxy.requests.find(
    (r) => r.method === "POST" && r.path.startsWith("/v2/client/mount-to/blobs/uploads/?mount="),
  );
  assert.equal(mount?.status, 201);
  assert.ok(await to.hasBlob(layer.descriptor));
  // A source that lacks the blob: the registry opens an upload instead (202) and the bytes follow.
  const other = image.layers[1]!;
  const elsewhere = { registry: proxy.host, repository: "client/empty" };
  assert.equal(await to.putBlob(other.descriptor, opener(other.bytes), { mountFrom: elsewhere }), "uploaded");
  assert.ok(await to.hasBlob(other.descriptor));
});

test("concurrent pushes of one digest upload once; uploads run within the limit", async () => {
  const limited = new RegistryClient({ maxConcurrentUploads: 2 });
  after(() => limited.close());
  const target = new RegistryTarget(limited, at(proxy.host, "client/dedup"));
  const image = await makeImage();
  const layer = image.layers[0]!;
  const results = await Promise.all(
    Array.from({ length: 5 }, () => target.putBlob(layer.descriptor, opener(layer.bytes))),
  );
  assert.deepEqual(results.sort(), ["exists", "exists", "exists", "exists", "uploaded"]);
  assert.equal(
    proxy.requests.filter((r) => r.method === "POST" && r.path.startsWith("/v2/client/dedup/")).length,
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

test("pushes every manifest media type by digest then by tag, and reads them back", async () => {
  for (const docker of [false, true]) {
    const repository = docker ? "client/docker-types" : "client/oci-types";
    const target = new RegistryTarget(client, at(registry.host, repository));
    const images = [
      await makeImage({ os: "linux", architecture: "amd64" }, docker),
      await makeImage({ os: "linux", architecture: "arm64" }, docker),
    ];
    const index = makeIndex(images, docker);
    await pushIndex(target, images, index, ["v1", "latest"]);
    await target.tag(images[0]!.manifest.descriptor, ["amd64"]);
    const cases = [
      [index, "v1", docker ? MediaType.dockerManifestList : MediaType.ociIndex],
      [images[0]!.manifest, "amd64", docker ? MediaType.dockerManifest : MediaType.ociManifest],
    ] as const;
    for (const [blob, tag, mediaType] of cases) {
      const location = target.location;
      assert.deepEqual(await client.headManifest(location, tag), {
        mediaType,
        digest: blob.descriptor.digest,
        size: blob.bytes.length,
      });
      assert.deepEqual((await client.getManifest(location, blob.descriptor.digest)).bytes, blob.bytes);
      const byTag = await client.getManifest(location, tag);
      assert.deepEqual(byTag.bytes, blob.bytes);
      assert.equal(byTag.descriptor.mediaType, mediaType);
      assert.equal(byTag.descriptor.digest, blob.descriptor.digest);
    }
    const source = new RegistrySource(client, at(registry.host, `${repository}:latest`));
    const resolved = await source.resolve();
    assert.equal(resolved.digest, index.descriptor.digest);
    assert.deepEqual(await source.fetchManifest(resolved), index.bytes);
    assert.equal(await target.hasManifest(images[1]!.manifest.descriptor), true);
  }
});

test("unknown manifests and blobs are typed errors carrying the registry's codes", async () => {
  const location = { registry: registry.host, repository: "client/missing" };
  assert.equal(await client.headManifest(location, "nope"), undefined);
  await assert.rejects(
    client.getManifest(location, "nope"),
    (e) => e instanceof RegistryError && e.code === "REGISTRY_NOT_FOUND" && e.registryCodes.length > 0,
  );
  await assert.rejects(new RegistrySource(client, at(registry.host, "client/missing:nope")).resolve(), (e) =>
    isPolypackError(e, "REGISTRY_NOT_FOUND"),
  );
  const image = await makeImage();
  await assert.rejects(
    client.openBlob(location, image.config.descriptor),
    (e) => e instanceof RegistryError && e.registryCodes.includes("BLOB_UNKNOWN"),
  );
});

test("manifests above the size cap are refused without reading them whole", async () => {
  const small = new RegistryClient({ maxManifestBytes: 100 });
  after(() => small.close());
  const image = await makeImage();
  const target = new RegistryTarget(client, at(registry.host, "client/cap"));
  await pushImage(target, image);
  await assert.rejects(small.getManifest(target.location, image.manifest.descriptor.digest), (e) =>
    isPolypackError(e, "SIZE_EXCEEDED"),
  );
});
