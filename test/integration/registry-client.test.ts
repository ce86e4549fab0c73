import assert from "node:assert/strict";
import { after, test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import { MediaType } from "../../src/oci/media-types.js";
import {
  RegistryClient,
  RegistryError,
  RegistrySource,
  RegistryTarget,
  Reference,
} from "../../src/api/registry.js";
import { makeImage, makeIndex, pushImage, pushIndex } from "./registry-images.js";
import { useRegistryBehindProxy } from "./registry-setup.js";

const bench = useRegistryBehindProxy();
const at = (host: string, repository: string): Reference => Reference.parse(`${host}/${repository}`);

test("pushes every manifest media type by digest then by tag, and reads them back", async () => {
  for (const docker of [false, true]) {
    const repository = docker ? "client/docker-types" : "client/oci-types";
    const target = new RegistryTarget(bench.direct, at(bench.registry.host, repository));
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
      assert.deepEqual(await bench.direct.headManifest(location, tag), {
        mediaType,
        digest: blob.descriptor.digest,
        size: blob.bytes.length,
      });
      assert.deepEqual((await bench.direct.getManifest(location, blob.descriptor.digest)).bytes, blob.bytes);
      const byTag = await bench.direct.getManifest(location, tag);
      assert.deepEqual(byTag.bytes, blob.bytes);
      assert.equal(byTag.descriptor.mediaType, mediaType);
      assert.equal(byTag.descriptor.digest, blob.descriptor.digest);
    }
    const source = new RegistrySource(bench.direct, at(bench.registry.host, `${repository}:latest`));
    const resolved = await source.resolve();
    assert.equal(resolved.digest, index.descriptor.digest);
    assert.deepEqual(await source.fetchManifest(resolved), index.bytes);
    assert.equal(await target.hasManifest(images[1]!.manifest.descriptor), true);
  }
});

test("unknown manifests and blobs are typed errors carrying the registry's codes", async () => {
  const location = { registry: bench.registry.host, repository: "client/missing" };
  assert.equal(await bench.direct.headManifest(location, "nope"), undefined);
  await assert.rejects(
    bench.direct.getManifest(location, "nope"),
    (e) => e instanceof RegistryError && e.code === "REGISTRY_NOT_FOUND" && e.registryCodes.length > 0,
  );
  await assert.rejects(
    new RegistrySource(bench.direct, at(bench.registry.host, "client/missing:nope")).resolve(),
    (e) => isPolypackError(e, "REGISTRY_NOT_FOUND"),
  );
  const image = await makeImage();
  await assert.rejects(
    bench.direct.openBlob(location, image.config.descriptor),
    (e) => e instanceof RegistryError && e.registryCodes.includes("BLOB_UNKNOWN"),
  );
});

test("manifests above the size cap are refused without reading them whole", async () => {
  const small = new RegistryClient({ maxManifestBytes: 100 });
  after(() => small.close());
  const image = await makeImage();
  const target = new RegistryTarget(bench.direct, at(bench.registry.host, "client/cap"));
  await pushImage(target, image);
  await assert.rejects(small.getManifest(target.location, image.manifest.descriptor.digest), (e) =>
    isPolypackError(e, "SIZE_EXCEEDED"),
  );
});
