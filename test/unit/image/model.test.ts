import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { Layer } from "../../../src/image/blob.js";
import { imageFor, readArtifact, type Image } from "../../../src/image/image.js";
import { editIndex, newIndex } from "../../../src/image/index-edit.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { write } from "../../../src/image/write.js";
import { descriptorFor, type Descriptor } from "../../../src/oci/descriptor.js";
import {
  buildImageManifest,
  encodeJSON,
  type ImageConfig,
  type ImageIndex,
} from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { Platform } from "../../../src/oci/platform.js";
import { MemoryStore } from "../../support/memory-store.js";

const sha256 = (data: Buffer | string): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Stores an image (layers whose "uncompressed" bytes are their own) and returns its descriptor. */
function seedImage(
  store: MemoryStore,
  config: Omit<ImageConfig, "rootfs">,
  layerTexts: string[],
): Descriptor {
  const put = (data: Buffer, mediaType: string): Descriptor => {
    const descriptor = descriptorFor(mediaType, data);
    store.blobs.set(descriptor.digest, data);
    return descriptor;
  };
  const layers = layerTexts.map((text) => put(Buffer.from(text), MediaType.ociLayerGzip));
  const configBlob = put(
    encodeJSON({
      ...config,
      rootfs: { type: "layers", diff_ids: layerTexts.map((t) => sha256(`tar ${t}`)) },
    }),
    MediaType.ociConfig,
  );
  const bytes = encodeJSON(buildImageManifest(configBlob, layers));
  const descriptor = descriptorFor(MediaType.ociManifest, bytes);
  store.manifests.set(descriptor.digest, bytes);
  return descriptor;
}

/** A layer held in memory. */
function memoryLayer(text: string): Layer & { bytes: Buffer } {
  const bytes = Buffer.from(text);
  return {
    bytes,
    descriptor: descriptorFor(MediaType.ociLayerGzip, bytes),
    diffID: sha256(`tar ${text}`),
    open: async () => (await import("node:stream")).Readable.from([bytes]),
  };
}

const BASE_CONFIG = {
  architecture: "arm64",
  os: "linux",
  variant: "v8",
  created: "2024-01-01T00:00:00Z",
  history: [{ created: "2024-01-01T00:00:00Z", created_by: "base" }],
  config: {
    Env: ["PATH=/usr/bin", "LANG=C"],
    User: "1000:1000",
    WorkingDir: "/workspace",
    Entrypoint: ["/cnb/lifecycle/launcher"],
    Labels: { "io.buildpacks.stack.id": "io.example", keep: "me" },
  },
};

async function baseImage(): Promise<{ store: MemoryStore; image: Image }> {
  const store = new MemoryStore("base", { registry: "registry.example", repository: "stacks/build" });
  store.root = seedImage(store, BASE_CONFIG, ["base layer"]);
  const image = await readArtifact(store);
  assert.equal(image.kind, "image");
  return { store, image: image };
}

test("an image read from a store: manifest bytes as stored, config, layers with diffIDs and where they live", async () => {
  const { store, image } = await baseImage();
  assert.deepEqual(await image.descriptor(), store.root);
  assert.ok((await image.manifestBytes()).equals(store.manifests.get(store.root!.digest)!));
  assert.equal((await image.config()).config?.User, "1000:1000");
  const [layer] = await image.layers();
  assert.equal(layer!.diffID, sha256("tar base layer"));
  assert.deepEqual(layer!.location, store.location, "a writer on the same registry can mount it");
});

test("mutate: the base's settings are inherited, changes applied, history follows the layers", async () => {
  const { image } = await baseImage();
  const added = memoryLayer("lifecycle");
  const mutated = mutateImage(image, {
    add: [{ layer: added, history: { created_by: "polypack builder" } }],
    labels: { "io.buildpacks.builder.metadata": "{}", keep: undefined },
    env: { LANG: "C.UTF-8", CNB_USER_ID: "1000" },
    workingDir: "/layers",
    annotations: { "org.opencontainers.image.source": "https://example.com" },
  });
  const config = await mutated.config();
  assert.deepEqual(config.config?.Env, ["PATH=/usr/bin", "LANG=C.UTF-8", "CNB_USER_ID=1000"]);
  assert.equal(config.config?.User, "1000:1000", "inherited");
  assert.equal(config.config?.WorkingDir, "/layers");
  assert.deepEqual(config.config?.Entrypoint, ["/cnb/lifecycle/launcher"]);
  assert.deepEqual(config.config?.Labels, {
    "io.buildpacks.stack.id": "io.example",
    "io.buildpacks.builder.metadata": "{}",
  });
  assert.deepEqual(config.rootfs.diff_ids, [sha256("tar base layer"), added.diffID]);
  assert.equal(config.history?.length, 2, "one history entry per layer");
  assert.equal(config.history?.[1]?.created_by, "polypack builder");
  const manifest = await mutated.manifest();
  assert.equal(
    manifest.layers[0]!.digest,
    (await image.layers())[0]!.descriptor.digest,
    "base layer by reference",
  );
  assert.deepEqual(manifest.annotations, { "org.opencontainers.image.source": "https://example.com" });
  const bytes = await mutated.manifestBytes();
  assert.equal((await mutated.descriptor()).digest, sha256(bytes));
  const configBlob = await mutated.configBlob();
  assert.equal(manifest.config.digest, configBlob.descriptor.digest);
  // Nothing changes the base.
  assert.deepEqual((await image.config()).config?.Env, ["PATH=/usr/bin", "LANG=C"]);
});

test("mutate: the same changes give the same digest; another platform gives another config", async () => {
  const { image } = await baseImage();
  const changes = { add: [{ layer: memoryLayer("x") }], created: new Date(0) };
  const a = await mutateImage(image, changes).descriptor();
  const b = await mutateImage(image, changes).descriptor();
  assert.deepEqual(a, b);
  const amd = mutateImage(image, { ...changes, platform: { architecture: "amd64", os: "linux" } });
  assert.equal((await amd.config()).architecture, "amd64");
  assert.equal((await amd.config()).variant, undefined, "the base's variant goes with its platform");
  assert.notEqual((await amd.descriptor()).digest, a.digest);
});

test("a config whose diff_ids do not match the layers is refused", async () => {
  const store = new MemoryStore("bad");
  const descriptor = seedImage(store, { architecture: "amd64", os: "linux" }, ["one", "two"]);
  const manifest = JSON.parse(store.manifests.get(descriptor.digest)!.toString()) as { layers: unknown[] };
  manifest.layers.pop();
  const bytes = encodeJSON(manifest);
  store.root = descriptorFor(MediaType.ociManifest, bytes);
  store.manifests.set(store.root.digest, bytes);
  const image = (await readArtifact(store)) as Image;
  await assert.rejects(image.layers(), (error) => isPolypackError(error, "CONFIG_INVALID"));
});

test("an index of images takes each platform from its config; edits add, replace, drop and annotate", async () => {
  const amd = emptyImage({ architecture: "amd64", os: "linux" });
  const arm = mutateImage(emptyImage({ architecture: "arm64", os: "linux" }), {
    add: [{ layer: memoryLayer("arm") }],
  });
  const index = newIndex([{ artifact: amd }, { artifact: arm, annotations: { a: "1" } }], {
    annotations: { "org.opencontainers.image.title": "t" },
  });
  const parsed: ImageIndex = await index.index();
  assert.deepEqual(
    parsed.manifests.map((m) => m.platform),
    [
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux" },
    ],
  );
  assert.deepEqual(parsed.manifests[1]!.annotations, { a: "1" });
  assert.ok((await index.manifestBytes()).equals(encodeJSON(parsed)));

  const armDigest = (await arm.descriptor()).digest;
  const ppc = emptyImage({ architecture: "ppc64le", os: "linux" });
  const edited = editIndex(index, {
    remove: (d) => d.digest === armDigest,
    add: [{ artifact: ppc }, { artifact: amd, annotations: { replaced: "yes" } }],
    annotate: (d) => ({ ...d, annotations: { ...d.annotations, seen: "1" } }),
    annotations: { "org.opencontainers.image.title": undefined, more: "x" },
    format: "docker",
  });
  const after = await edited.index();
  assert.equal(after.mediaType, MediaType.dockerManifestList);
  assert.deepEqual(after.annotations, { more: "x" });
  assert.deepEqual(
    after.manifests.map((m) => [m.platform?.architecture, m.annotations]),
    [
      ["amd64", { replaced: "yes" }],
      ["ppc64le", undefined],
    ],
  );
  assert.equal((await index.index()).manifests.length, 2, "the original index is unchanged");
});

test("write: blobs the target has are skipped, blobs of another repository of its registry mounted, tags last", async () => {
  const { store, image } = await baseImage();
  const added = memoryLayer("app");
  const child = mutateImage(image, { add: [{ layer: added }] });
  const root = newIndex([{ artifact: child }]);
  const target = new MemoryStore("target", { registry: "registry.example", repository: "builders/b" });
  const report = await write(root, target, { tags: ["v1"] });
  assert.equal(report.blobs.mounted, 1, "the base layer, mounted from stacks/build");
  assert.equal(report.blobs.uploaded, 2, "the new layer and the new config");
  const childDigest = (await child.descriptor()).digest;
  const rootDigest = (await root.descriptor()).digest;
  assert.deepEqual(target.log.slice(-3), [`manifest ${childDigest}`, `manifest ${rootDigest}`, "tag v1"]);
  assert.ok(target.blobs.get(added.descriptor.digest)?.equals(added.bytes));

  const again = await write(root, target, { tags: ["v2"] });
  assert.equal(again.upToDate, true);
  assert.equal(again.blobs.existing, 3);
  assert.equal(store.log.length, 0, "the base store was only read");
});

test("an index gives its image for a platform, by entry or, without one, by config; nested indexes too", async () => {
  const amd = emptyImage({ architecture: "amd64", os: "linux" });
  const arm = emptyImage({ architecture: "arm64", os: "linux", "os.version": "22.04" });
  const armv7 = emptyImage({ architecture: "arm", os: "linux", variant: "v7" });
  const inner = newIndex([{ artifact: armv7 }]);
  const unnamed = newIndex([{ artifact: amd, platform: undefined }, { artifact: arm }]);
  const index = newIndex([{ artifact: unnamed }, { artifact: inner }]);
  const digest = async (image: Image | undefined): Promise<string | undefined> =>
    image ? (await image.descriptor()).digest : undefined;
  assert.equal(await digest(await imageFor(index, Platform.parse("linux/arm64"))), await digest(arm));
  assert.equal(await digest(await imageFor(index, Platform.parse("linux/arm/v7"))), await digest(armv7));
  assert.equal(await digest(await imageFor(unnamed, Platform.parse("linux/amd64"))), await digest(amd));
  assert.equal(await imageFor(index, Platform.parse("linux/ppc64le")), undefined);
  const wanted = new Platform({ os: "linux", architecture: "arm64", osVersion: "24.04" });
  assert.equal(await imageFor(index, wanted), undefined, "os.version counts when asked for");
});
