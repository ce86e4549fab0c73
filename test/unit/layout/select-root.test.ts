import assert from "node:assert/strict";
import { test } from "node:test";
import { choosePackManifest, withPackManifest } from "../../../src/layout/cnb-index.js";
import { withRefs, withUnnamed } from "../../../src/layout/layout-files.js";
import { selectRoot } from "../../../src/layout/select-root.js";
import { REF_NAME_ANNOTATION, type Descriptor } from "../../../src/oci/descriptor.js";
import { Digest } from "../../../src/oci/digest.js";
import { buildImageIndex } from "../../../src/oci/manifest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { Platform } from "../../../src/oci/platform.js";
import { isPolypackError } from "../../../src/errors/index.js";

const image = (seed: string, platform?: string): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: Digest.of(seed).toString(),
  size: seed.length,
  ...(platform ? { platform: Platform.parse(platform).toJSON() } : {}),
});
const index = (seed: string): Descriptor => ({ ...image(seed), mediaType: MediaType.ociIndex });
const named = (descriptor: Descriptor, ref: string): Descriptor => ({
  ...descriptor,
  annotations: { [REF_NAME_ANNOTATION]: ref },
});

test("a ref picks its entry; the ref name is dropped from the result", () => {
  const manifests = [named(image("a"), "a"), named(index("b"), "b")];
  assert.deepEqual(selectRoot(manifests, "b", "L"), index("b"));
  assert.throws(
    () => selectRoot(manifests, "c", "L"),
    (error) =>
      isPolypackError(error, "REF_NOT_FOUND") && error.hint === "add :REF to the path; refs present: a, b",
  );
  assert.throws(
    () => selectRoot([named(image("a"), "x"), named(image("b"), "x")], "x", "L"),
    (error) => isPolypackError(error, "REF_AMBIGUOUS"),
  );
});

test("without a ref: the only entry, else the only index, else REF_REQUIRED", () => {
  assert.deepEqual(selectRoot([image("pack")], undefined, "L"), image("pack"));
  assert.deepEqual(selectRoot([named(index("i"), "latest"), image("amd64")], undefined, "L"), index("i"));
  assert.throws(
    () => selectRoot([image("a"), image("b")], undefined, "L"),
    (error) => isPolypackError(error, "REF_REQUIRED"),
  );
  assert.throws(
    () => selectRoot([], undefined, "L"),
    (error) => isPolypackError(error, "IMAGE_NOT_FOUND"),
  );
});

test("ref edits replace in place, append new refs, and never duplicate unnamed entries", () => {
  const start = [named(image("old"), "latest"), image("loose")];
  assert.deepEqual(withRefs(start, image("new"), ["latest", "v2"]), [
    named(image("new"), "latest"),
    image("loose"),
    named(image("new"), "v2"),
  ]);
  assert.deepEqual(withUnnamed(start, image("loose")), start);
  assert.deepEqual(withUnnamed(start, named(image("x"), "ignored")), [...start, image("x")]);
});

test("pack gets linux/amd64 when present, else the preferred platform, else the first image", () => {
  const children = [
    image("arm64", "linux/arm64"),
    image("amd64", "linux/amd64"),
    image("v7", "linux/arm/v7"),
  ];
  const multi = buildImageIndex(children);
  assert.equal(choosePackManifest(multi)?.digest, image("amd64").digest);
  assert.equal(choosePackManifest(multi, Platform.parse("linux/arm/v7"))?.digest, image("v7").digest);
  assert.equal(
    choosePackManifest(buildImageIndex([children[0]!, children[2]!]))?.digest,
    image("arm64").digest,
  );
  assert.equal(choosePackManifest(buildImageIndex([index("nested")])), undefined);
});

test("the pack manifest is appended after the named index, once", () => {
  const entries = [named(index("i"), "latest")];
  const withPack = withPackManifest(entries, named(image("amd64", "linux/amd64"), "should-not-survive"));
  assert.deepEqual(withPack, [...entries, image("amd64", "linux/amd64")]);
  assert.deepEqual(withPackManifest(withPack, image("other")), withPack);
  // pack's rule, applied to the result: the first entry with an image manifest media type.
  const packReads = withPack.find(
    (entry) => entry.mediaType === MediaType.ociManifest || entry.mediaType === MediaType.dockerManifest,
  );
  assert.equal(packReads?.digest, image("amd64").digest);
  assert.deepEqual(selectRoot(withPack, "latest", "L"), index("i"));
  assert.deepEqual(selectRoot(withPack, undefined, "L"), index("i"));
});
