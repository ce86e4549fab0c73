import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import type { Artifact } from "../../../src/image/image.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { checkIndex } from "../../../src/manifest/check.js";
import {
  addImages,
  annotateImage,
  emptyDraft,
  removeImages,
  type IndexDraft,
} from "../../../src/manifest/draft.js";
import { draftIndex } from "../../../src/manifest/publish.js";
import { checkSameBuildpackOrBuilder, moduleIdentity } from "../../../src/manifest/same-module.js";
import type { Candidate } from "../../../src/manifest/sources.js";
import { canonicalIndexName, defaultIndexStoreDir, IndexStore } from "../../../src/manifest/store.js";
import type { PlatformJSON } from "../../../src/oci/platform.js";
import { tempDir } from "../../support/tmp.js";

const BP = "io.buildpacks.buildpackage.metadata";
const BUILDER = "io.buildpacks.builder.metadata";
const ORDER = "io.buildpacks.buildpack.order";

async function candidate(platform: PlatformJSON, labels: Record<string, string> = {}): Promise<Candidate> {
  const image = mutateImage(emptyImage(platform), { labels });
  const { mediaType, digest, size } = await image.descriptor();
  return {
    descriptor: { mediaType, digest, size, platform },
    image,
    location: "r.example/src",
    from: digest,
  };
}

function indexOfDraft(draft: IndexDraft, images: readonly Candidate[]): ReturnType<typeof draftIndex> {
  const known = new Map<string, Artifact>(images.map((c) => [c.descriptor.digest, c.image]));
  return draftIndex(draft, () => Promise.reject(new Error("all images are known")), known);
}

test("adding the same images twice gives the same index; another image for a listed platform is MANIFEST_PLATFORM_DUPLICATE", async () => {
  const amd = await candidate({ os: "linux", architecture: "amd64" });
  const arm = await candidate({ os: "linux", architecture: "arm64" });
  const once = addImages(emptyDraft("oci", { b: "2", a: "1" }), [amd, arm]);
  const twice = addImages(once, [arm, amd]);
  assert.deepEqual(twice, once);
  assert.deepEqual(Object.keys(once.index.annotations ?? {}), ["a", "b"], "annotations in one order");
  const other = await candidate({ os: "linux", architecture: "amd64" }, { x: "y" });
  assert.throws(
    () => addImages(once, [other]),
    (e) => isPolypackError(e, "MANIFEST_PLATFORM_DUPLICATE"),
  );
  assert.throws(
    () => addImages(emptyDraft("oci"), [amd, other]),
    (e) => isPolypackError(e, "MANIFEST_PLATFORM_DUPLICATE"),
  );
});

test("annotate and rm refuse an entry the index does not list, and annotate a platform another entry has", async () => {
  const amd = await candidate({ os: "linux", architecture: "amd64" });
  const arm = await candidate({ os: "linux", architecture: "arm64" });
  const draft = addImages(emptyDraft("oci"), [amd, arm]);
  const absent = `sha256:${"0".repeat(64)}`;
  assert.throws(
    () => annotateImage(draft, absent, { variant: "v8" }, "idx"),
    (e) => isPolypackError(e, "MANIFEST_ENTRY_NOT_FOUND"),
  );
  assert.throws(
    () => removeImages(draft, [absent], "idx"),
    (e) => isPolypackError(e, "MANIFEST_ENTRY_NOT_FOUND"),
  );
  assert.throws(
    () => annotateImage(draft, arm.descriptor.digest, { architecture: "amd64" }, "idx"),
    (e) => isPolypackError(e, "MANIFEST_PLATFORM_DUPLICATE"),
  );
  const dropped = removeImages(draft, [amd.descriptor.digest], "idx");
  assert.deepEqual(Object.keys(dropped.locations), [arm.descriptor.digest]);
});

test("checkIndex refuses an entry whose platform its config contradicts, and Docker lists of OCI images", async () => {
  const amd = await candidate({ os: "linux", architecture: "amd64" });
  const draft = addImages(emptyDraft("oci"), [amd]);
  const wrong = annotateImage(draft, amd.descriptor.digest, { architecture: "arm64" }, "idx");
  await assert.rejects(checkIndex(indexOfDraft(wrong, [amd]), "idx"), (e) =>
    isPolypackError(e, "MANIFEST_PLATFORM_MISMATCH"),
  );
  // What the config leaves out, the entry may add.
  const more = annotateImage(draft, amd.descriptor.digest, { osVersion: "22.04" }, "idx");
  await checkIndex(indexOfDraft(more, [amd]), "idx");
  const docker = addImages(emptyDraft("docker"), [amd]);
  await assert.rejects(checkIndex(indexOfDraft(docker, [amd]), "idx"), (e) =>
    isPolypackError(e, "MANIFEST_DOCKER_INCOMPATIBLE"),
  );
});

test("one buildpack or builder: id and version, or buildpacks, order and lifecycle, must agree", () => {
  const bp = (id: string, version: string): Record<string, string> => ({
    [BP]: JSON.stringify({ id, version }),
  });
  const builder = (lifecycle: string, order = '[{"group":[{"id":"a"}]}]'): Record<string, string> => ({
    [BUILDER]: JSON.stringify({ buildpacks: [{ id: "a", version: "1" }], lifecycle: { version: lifecycle } }),
    [ORDER]: order,
  });
  const check = (...labels: Record<string, string>[]): void =>
    checkSameBuildpackOrBuilder(labels.map((l, i) => ({ name: `child-${i}`, labels: l })));
  check(bp("go-dist", "1.0"), bp("go-dist", "1.0"));
  check({}, { other: "label" });
  check(builder("0.20.0"), builder("0.20.0"));
  const differ = (e: unknown): boolean => isPolypackError(e, "MANIFEST_CHILDREN_DIFFER");
  assert.throws(() => check(bp("go-dist", "1.0"), bp("node-engine", "1.0")), differ);
  assert.throws(() => check(bp("go-dist", "1.0"), bp("go-dist", "1.1")), differ);
  assert.throws(() => check(bp("go-dist", "1.0"), {}), differ);
  assert.throws(() => check(builder("0.20.0"), builder("0.19.0")), differ);
  assert.throws(() => check(builder("0.20.0"), builder("0.20.0", '[{"group":[{"id":"b"}]}]')), differ);
  assert.equal(moduleIdentity({ [BP]: "not json" }), "buildpack with label not json");
});

test("the local index store: its place, names, and records it does not trust", async () => {
  assert.equal(defaultIndexStoreDir({ POLYPACK_HOME: "/p" }, "/h"), "/p/manifests");
  assert.equal(defaultIndexStoreDir({ XDG_DATA_HOME: "/x" }, "/h"), "/x/polypack/manifests");
  assert.equal(defaultIndexStoreDir({ XDG_DATA_HOME: "rel" }, "/h"), "/h/.local/share/polypack/manifests");
  assert.equal(canonicalIndexName("docker://r.example/a:1"), canonicalIndexName("r.example/a:1"));
  assert.throws(
    () => canonicalIndexName(`r.example/a@sha256:${"0".repeat(64)}`),
    (e) => isPolypackError(e, "REFERENCE_INVALID"),
  );
  const root = await tempDir("polypack-store-");
  const store = new IndexStore(root);
  assert.ok(
    !store
      .pathOf("../../etc/passwd")
      .slice(root.length + 1)
      .includes("/"),
    "a name never leaves the root",
  );
  const amd = await candidate({ os: "linux", architecture: "amd64" });
  const draft = addImages(emptyDraft("oci"), [amd]);
  await store.write({ name: "r.example/a:1", ...draft });
  assert.deepEqual(await store.read("r.example/a:1"), { name: "r.example/a:1", ...draft });
  const invalid = (e: unknown): boolean => isPolypackError(e, "MANIFEST_LOCAL_INVALID");
  await writeFile(store.pathOf("r.example/b:1"), "{");
  await assert.rejects(store.read("r.example/b:1"), invalid);
  const record = {
    schemaVersion: 1,
    name: "r.example/c:1",
    index: draft.index,
    locations: { [amd.descriptor.digest]: "oci:relative/dir" },
  };
  await writeFile(store.pathOf("r.example/c:1"), JSON.stringify(record));
  await assert.rejects(store.read("r.example/c:1"), invalid);
  await mkdir(join(root, "elsewhere"));
  await symlink(join(root, "elsewhere"), store.pathOf("r.example/d:1"));
  await assert.rejects(store.read("r.example/d:1"), invalid);
  assert.equal(await store.remove("r.example/a:1"), true);
  assert.equal(await store.remove("r.example/a:1"), false);
});
