import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { write } from "../../../src/image/write.js";
import { joinImages } from "../../../src/manifest/join.js";
import type { PlatformJSON } from "../../../src/oci/platform.js";
import { MemoryStore } from "../../support/memory-store.js";

/** A store holding one empty image for `platform`. */
async function imageStore(name: string, platform: PlatformJSON): Promise<MemoryStore> {
  const store = new MemoryStore(name);
  store.root = (await write(emptyImage(platform), store)).root;
  return store;
}

test("joining two images for one platform is MANIFEST_PLATFORM_DUPLICATE, whatever the order of their os.features", async () => {
  const a = await imageStore("a", { os: "linux", architecture: "amd64", "os.features": ["win32k", "x"] });
  const b = await imageStore("b", { os: "linux", architecture: "amd64", "os.features": ["x", "win32k"] });
  await assert.rejects(
    joinImages([a, b], new MemoryStore("target"), ["latest"]),
    (error) =>
      isPolypackError(error, "MANIFEST_PLATFORM_DUPLICATE") && /b and a both hold/.test(error.message),
  );
});

test("images that differ in os.version or os.features are different platforms of one index", async () => {
  const jammy = await imageStore("jammy", { os: "linux", architecture: "amd64", "os.version": "22.04" });
  const noble = await imageStore("noble", { os: "linux", architecture: "amd64", "os.version": "24.04" });
  const win = await imageStore("win", { os: "linux", architecture: "amd64", "os.features": ["win32k"] });
  const plain = await imageStore("plain", { os: "linux", architecture: "amd64" });
  const result = await joinImages([jammy, noble, win, plain], new MemoryStore("target"), ["latest"]);
  assert.deepEqual(
    result.manifests.map((m) => m.platform),
    [
      { architecture: "amd64", os: "linux", "os.version": "22.04" },
      { architecture: "amd64", os: "linux", "os.version": "24.04" },
      { architecture: "amd64", os: "linux", "os.features": ["win32k"] },
      { architecture: "amd64", os: "linux" },
    ],
  );
});

test("joinImages refuses images of different buildpacks, and writes nothing", async () => {
  const label = (id: string): Record<string, string> => ({
    "io.buildpacks.buildpackage.metadata": JSON.stringify({ id, version: "1.0.0" }),
  });
  const go = new MemoryStore("go-dist");
  go.root = (
    await write(
      mutateImage(emptyImage({ os: "linux", architecture: "amd64" }), { labels: label("go-dist") }),
      go,
    )
  ).root;
  const node = new MemoryStore("node-engine");
  node.root = (
    await write(
      mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), { labels: label("node-engine") }),
      node,
    )
  ).root;
  const target = new MemoryStore("target");
  await assert.rejects(
    joinImages([go, node], target, ["latest"]),
    (error) =>
      isPolypackError(error, "MANIFEST_CHILDREN_DIFFER") &&
      /go-dist@1\.0\.0.*node-engine@1\.0\.0/.test(error.message),
  );
  assert.deepEqual(target.log, [], "nothing written, no tag");
});
