import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { newIndex } from "../../../src/image/index-edit.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { write } from "../../../src/image/write.js";
import { Platform, type PlatformJSON } from "../../../src/oci/platform.js";
import { layersFromImage } from "../../../src/package/composite-image.js";
import { BUILDPACK_LAYERS_LABEL } from "../../../src/buildpack/labels.js";
import { MemoryStore } from "../../support/memory-store.js";

/** A buildpackage image for `platform`, told apart by the buildpack id in its layers label. */
function buildpackage(platform: PlatformJSON, id: string) {
  const label = JSON.stringify({
    [id]: { "1.0.0": { api: "0.10", layerDiffID: `sha256:${"0".repeat(64)}` } },
  });
  return mutateImage(emptyImage(platform), { labels: { [BUILDPACK_LAYERS_LABEL]: label } });
}

/** A store holding an index over `images`, in order. */
async function storeWith(...images: [PlatformJSON, string][]): Promise<MemoryStore> {
  const store = new MemoryStore("deps.cnb");
  const index = newIndex(images.map(([platform, id]) => ({ artifact: buildpackage(platform, id) })));
  store.root = (await write(index, store)).root;
  return store;
}

const chosen = async (store: MemoryStore, wanted: Platform): Promise<string[]> =>
  Object.keys((await layersFromImage(store, wanted)).moduleLayers);

test("a dependency's image for the target's distro version wins over one that names none", async () => {
  const store = await storeWith(
    [{ os: "linux", architecture: "amd64" }, "any-distro"],
    [{ os: "linux", architecture: "amd64", "os.version": "22.04" }, "jammy"],
  );
  assert.deepEqual(
    await chosen(store, new Platform({ os: "linux", architecture: "amd64", osVersion: "22.04" })),
    ["jammy"],
  );
  // A distro version the buildpackage does not have: its image that names no version is used.
  assert.deepEqual(
    await chosen(store, new Platform({ os: "linux", architecture: "amd64", osVersion: "24.04" })),
    ["any-distro"],
  );
});

test("an image for another distro version or architecture is not used; one naming no architecture is, with a warning", async () => {
  const store = await storeWith(
    [{ os: "linux", architecture: "amd64", "os.version": "20.04" }, "focal"],
    [{ os: "linux", architecture: "arm64" }, "arm"],
  );
  await assert.rejects(
    layersFromImage(store, new Platform({ os: "linux", architecture: "amd64", osVersion: "22.04" })),
    (error) => isPolypackError(error, "COMPOSITE_PLATFORM_MISSING"),
  );
  const unnamed = await storeWith([{ os: "linux", architecture: "" }, "pack-bug"]);
  const result = await layersFromImage(unnamed, Platform.parse("linux/arm64"));
  assert.deepEqual(Object.keys(result.moduleLayers), ["pack-bug"]);
  assert.match(result.warnings.join("\n"), /names no architecture/);
});
