import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { copy, type CopyEvent } from "../../../src/image/copy.js";
import { descriptorFor, type Descriptor } from "../../../src/oci/descriptor.js";
import { buildImageIndex, buildImageManifest, encodeJSON } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { Platform } from "../../../src/oci/platform.js";
import { isPolypackError } from "../../../src/errors.js";
import { verifyingStream } from "../../../src/oci/verify.js";
import { MemoryStore } from "../../support/memory-store.js";

/** Puts a two-platform index into `store` whose images share one layer. */
function seedIndex(store: MemoryStore): { index: Descriptor; children: Descriptor[]; shared: Descriptor } {
  const put = (data: Buffer, mediaType: string): Descriptor => {
    const descriptor = descriptorFor(mediaType, data);
    store.blobs.set(descriptor.digest, data);
    return descriptor;
  };
  const shared = put(Buffer.from("shared layer"), MediaType.ociLayerGzip);
  const children = ["linux/amd64", "linux/arm64"].map((text) => {
    const platform = Platform.parse(text);
    const config = put(
      encodeJSON({ ...platform.toJSON(), rootfs: { type: "layers", diff_ids: [] } }),
      MediaType.ociConfig,
    );
    const own = put(Buffer.from(`layer for ${text}`), MediaType.ociLayerGzip);
    const bytes = encodeJSON(buildImageManifest(config, [shared, own]));
    const descriptor = { ...descriptorFor(MediaType.ociManifest, bytes), platform: platform.toJSON() };
    store.manifests.set(descriptor.digest, bytes);
    return descriptor;
  });
  const indexBytes = encodeJSON(buildImageIndex(children));
  const index = descriptorFor(MediaType.ociIndex, indexBytes);
  store.manifests.set(index.digest, indexBytes);
  store.root = index;
  return { index, children, shared };
}

test("writes blobs, then child manifests, then the index, then tags", async () => {
  const source = new MemoryStore("source");
  const { index, children } = seedIndex(source);
  const target = new MemoryStore("target");
  const report = await copy(source, target, { tags: ["v1", "latest"] });

  const kinds = target.log.map((line) => line.split(" ")[0]);
  const lastBlob = kinds.lastIndexOf("blob");
  const firstManifest = kinds.indexOf("manifest");
  assert.ok(lastBlob < firstManifest, "every blob before any manifest");
  assert.equal(target.log.at(-3), `manifest ${index.digest}`);
  assert.deepEqual(target.log.slice(-2), ["tag v1", "tag latest"]);
  for (const child of children)
    assert.ok(
      target.log.indexOf(`manifest ${child.digest}`) < target.log.indexOf(`manifest ${index.digest}`),
    );
  assert.equal(report.blobs.uploaded, 5, "shared layer uploaded once: 2 configs + 2 own layers + 1 shared");
  assert.equal(report.manifests, 3);
  assert.equal(target.tags.get("latest")?.digest, index.digest);
});

test("a failure on a child leaves no tag and aborts", async () => {
  const source = new MemoryStore("source");
  const { children } = seedIndex(source);
  const target = new MemoryStore("target");
  target.failOn = new RegExp(`manifest ${children[1]!.digest}`);
  let aborted = false;
  target.abort = () => {
    aborted = true;
    return Promise.resolve();
  };
  await assert.rejects(copy(source, target, { tags: ["latest"] }), (e) => isPolypackError(e, "INJECTED"));
  assert.equal(target.tags.size, 0);
  assert.ok(aborted);
});

test("a target that already has the root only gets its tags", async () => {
  const source = new MemoryStore("source");
  seedIndex(source);
  const target = new MemoryStore("target");
  await copy(source, target);
  target.log.length = 0;
  const report = await copy(source, target, { tags: ["again"] });
  assert.ok(report.upToDate);
  assert.deepEqual(target.log, ["tag again"]);
});

test("mounts from a source repository on the same registry", async () => {
  const source = new MemoryStore("source", { registry: "r.example", repository: "a" });
  seedIndex(source);
  const target = new MemoryStore("target", { registry: "r.example", repository: "b" });
  const report = await copy(source, target);
  assert.equal(report.blobs.mounted, 5);
  assert.equal(report.blobs.uploaded, 0);
});

test("emits a plan and one done event per blob", async () => {
  const source = new MemoryStore("source");
  seedIndex(source);
  const events: CopyEvent[] = [];
  await copy(source, new MemoryStore("target"), { onEvent: (e) => events.push(e) });
  const plan = events.find((e) => e.type === "plan");
  assert.ok(plan && plan.type === "plan" && plan.blobs === 5 && plan.manifests === 3);
  assert.equal(events.filter((e) => e.type === "blob-done").length, 5);
});

test("a corrupted source blob fails the copy with DIGEST_MISMATCH", async () => {
  const source = new MemoryStore("source");
  const { shared } = seedIndex(source);
  source.blobs.set(shared.digest, Buffer.from("shared lazer"));
  await assert.rejects(copy(source, new MemoryStore("target")), (e) => isPolypackError(e, "DIGEST_MISMATCH"));
});

test("a present root with a blob missing below it gets the blob back before any tag", async () => {
  const source = new MemoryStore("source");
  const { shared } = seedIndex(source);
  const target = new MemoryStore("target");
  await copy(source, target, { tags: ["v1"] });
  target.blobs.delete(shared.digest);
  target.log.length = 0;
  const report = await copy(source, target, { tags: ["v2"] });
  assert.equal(report.upToDate, false);
  assert.deepEqual(target.log, [`blob ${shared.digest}`, "tag v2"]);
  assert.deepEqual(report.blobs, {
    uploaded: 1,
    mounted: 0,
    moved: 0,
    existing: 4,
    bytesUploaded: shared.size,
  });
  assert.deepEqual(target.blobs.get(shared.digest), source.blobs.get(shared.digest));
});

test("a missing child manifest is written again even though the index is present", async () => {
  const source = new MemoryStore("source");
  const { children } = seedIndex(source);
  const target = new MemoryStore("target");
  await copy(source, target);
  target.manifests.delete(children[1]!.digest);
  target.log.length = 0;
  const report = await copy(source, target, { tags: ["again"] });
  assert.deepEqual(target.log, [`manifest ${children[1]!.digest}`, "tag again"]);
  assert.equal(report.manifests, 1);
});

test("a target that keeps a damaged blob when it is written again fails the copy; no tag", async () => {
  const source = new MemoryStore("source");
  const { shared } = seedIndex(source);
  // Like a registry whose storage holds a truncated copy: the presence check (with the size) says
  // no, but the push finds "a blob" and keeps it.
  const target = new MemoryStore("registry");
  target.hasBlob = (descriptor) => Promise.resolve(descriptor.digest !== shared.digest);
  target.blobs.set(shared.digest, Buffer.from("trunc"));
  await assert.rejects(
    copy(source, target, { tags: ["v1"] }),
    (e) => isPolypackError(e, "DESTINATION_BLOB_INVALID") && e.message.includes(shared.digest),
  );
  assert.equal(target.tags.size, 0);
  assert.equal(target.manifests.size, 0, "no manifest names the damaged blob");
});

test("presence checks run concurrently, so a re-copy costs one round trip", async () => {
  const source = new MemoryStore("source");
  seedIndex(source);
  const target = new MemoryStore("target");
  await copy(source, target);
  let inFlight = 0;
  let most = 0;
  const check = async (): Promise<boolean> => {
    most = Math.max(most, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, 20));
    inFlight--;
    return true;
  };
  target.hasBlob = check;
  target.hasManifest = check;
  const report = await copy(source, target, { concurrency: 1 });
  assert.ok(report.upToDate);
  assert.equal(most, 8, "5 blobs and 3 manifests checked at once");
});

test("a read a second read may cure is started over; one that would recur fails at once", async () => {
  for (const refetchable of [true, false]) {
    const source = new MemoryStore("source");
    const { shared } = seedIndex(source);
    let opens = 0;
    const good = source.openBlob.bind(source);
    source.openBlob = async (descriptor) => {
      if (descriptor.digest !== shared.digest) return good(descriptor);
      opens++;
      if (opens > 1) return good(descriptor);
      const bytes = Buffer.from(source.blobs.get(shared.digest)!);
      bytes[0] = bytes[0]! ^ 0xff;
      return Readable.from([bytes]).pipe(verifyingStream(descriptor, "source"));
    };
    if (refetchable) source.refetchable = (error) => isPolypackError(error, "DIGEST_MISMATCH");
    const target = new MemoryStore("target");
    if (refetchable) {
      await copy(source, target, { tags: ["v1"] });
      assert.equal(opens, 2, "opened again after the damaged read");
      assert.deepEqual(target.blobs.get(shared.digest), source.blobs.get(shared.digest));
    } else {
      await assert.rejects(copy(source, target, { tags: ["v1"] }), (e) =>
        isPolypackError(e, "DIGEST_MISMATCH"),
      );
      assert.equal(opens, 1, "not opened again");
      assert.equal(target.tags.size, 0);
    }
  }
});
