import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../src/errors/index.js";
import { parseManifest } from "../../src/oci/manifest.js";
import { RegistrySource, RegistryTarget, Reference } from "../../src/api/registry.js";
import { makeImage, makeIndex, pushIndex } from "./registry-images.js";
import { faultTools, faultyClient, useRegistryBehindProxy } from "./registry-setup.js";

const bench = useRegistryBehindProxy();
const { rule, via, faults, assertStored } = faultTools(bench);

test("bytes altered on the way are rejected with DIGEST_MISMATCH", async () => {
  const client = faultyClient();
  const image = await makeImage();
  const index = makeIndex([image]);
  await pushIndex(
    new RegistryTarget(bench.direct, Reference.parse(`${bench.registry.host}/faults/corrupt`)),
    [image],
    index,
    ["t"],
  );
  const source = new RegistrySource(client, via("faults/corrupt:t"));
  const check = (e: unknown): boolean => isPolypackError(e, "DIGEST_MISMATCH");
  // Altered: the stream fails instead of ending, with a failure a writer may cure by reading again.
  rule("GET", /^\/v2\/faults\/corrupt\/blobs\//, { kind: "corrupt" }, Infinity);
  await assert.rejects(
    async () => {
      for await (const _chunk of await source.openBlob(image.layers[1]!.descriptor)) {
        // the stream does not end cleanly
      }
    },
    (e) => check(e) && source.refetchable(e),
  );
  assert.equal(faults("faults/corrupt", "corrupt"), 1, "one GET: refetching is the writer's to decide");
  rule("GET", /^\/v2\/faults\/corrupt\/manifests\/sha256:/, { kind: "corrupt" });
  await assert.rejects(source.fetchManifest(index.descriptor), check);
  rule("GET", /^\/v2\/faults\/corrupt\/manifests\/t$/, { kind: "corrupt" });
  await assert.rejects(client.getManifest(source.location, "t"), check);
});

test("a failure in the middle of a multi-arch push never moves the tag to a partial index", async () => {
  const client = faultyClient({ retry: { maxAttempts: 2 } });
  const repository = "faults/partial";
  const target = new RegistryTarget(client, via(repository));
  const platforms = [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ];
  const v1 = await Promise.all(platforms.map((p) => makeImage(p)));
  const index1 = makeIndex(v1);
  await pushIndex(target, v1, index1, ["latest"]);

  const v2 = await Promise.all(platforms.map((p) => makeImage(p)));
  const index2 = makeIndex(v2);
  rule(
    "PUT",
    new RegExp(`^/v2/${repository}/manifests/${v2[1]!.manifest.descriptor.digest}$`),
    { kind: "status", status: 500 },
    Infinity,
  );
  await assert.rejects(pushIndex(target, v2, index2, ["latest"]), (e) =>
    isPolypackError(e, "REGISTRY_UNAVAILABLE"),
  );

  const location = { registry: bench.registry.host, repository };
  const tagged = await bench.direct.getManifest(location, "latest");
  assert.equal(tagged.descriptor.digest, index1.descriptor.digest);
  const parsed = parseManifest(tagged.bytes, tagged.descriptor.mediaType, "latest");
  assert.equal(parsed.kind, "index");
  for (const child of parsed.kind === "index" ? parsed.index.manifests : []) {
    const image = v1.find((i) => i.manifest.descriptor.digest === child.digest)!;
    await assertStored(repository, image);
  }
  assert.equal(await bench.direct.headManifest(location, index2.descriptor.digest), undefined);
});
