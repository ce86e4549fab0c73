import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { RegistryClient, RegistryTarget, Reference } from "../../src/api/registry.js";
import { startRegistry } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { blobsOf, makeImage, makeIndex, pushIndex } from "./registry-images.js";

test("skopeo reads back an index and its images pushed by the client", async () => {
  const registry = await startRegistry();
  after(() => registry.stop());
  const client = new RegistryClient();
  after(() => client.close());
  const images = [
    await makeImage({ os: "linux", architecture: "amd64" }),
    await makeImage({ os: "linux", architecture: "arm64", variant: "v8" }),
    await makeImage({ os: "linux", architecture: "arm", variant: "v7" }, false),
  ];
  const index = makeIndex(images);
  await pushIndex(
    new RegistryTarget(client, Reference.parse(`${registry.host}/skopeo/multi`)),
    images,
    index,
    ["1.0", "latest"],
  );

  const image = `docker://${registry.host}/skopeo/multi:1.0`;
  const raw = await run("skopeo", ["inspect", "--tls-verify=false", "--raw", image]);
  assert.equal(raw, index.bytes.toString("utf8"));
  const child = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${registry.host}/skopeo/multi@${images[1]!.manifest.descriptor.digest}`,
    ]),
  ) as { layers: unknown[] };
  assert.equal(child.layers.length, 2);

  const dir = await tempDir();
  const layout = join(dir, "layout");
  await run("skopeo", ["copy", "--all", "--src-tls-verify=false", image, `oci:${layout}:copied`]);
  const written = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string }[];
  };
  assert.equal(written.manifests[0]!.digest, index.descriptor.digest);
  for (const blob of [...images.flatMap(blobsOf), ...images.map((i) => i.manifest), index]) {
    const path = join(layout, "blobs", "sha256", blob.descriptor.digest.slice("sha256:".length));
    assert.equal((await stat(path)).size, blob.bytes.length, blob.descriptor.digest);
  }
});
