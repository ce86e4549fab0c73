import { Readable } from "node:stream";
import type { ContentTarget } from "../oci/content.js";
import { descriptorFor, type Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { parseManifest, type ImageIndex, type ImageManifest } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";

/** A document to attach to a manifest: an SBOM, a signature, an attestation. */
export interface ReferrerArtifact {
  /** The manifest's artifactType, also the media type of its one layer. */
  artifactType: string;
  bytes: Buffer;
  annotations?: Readonly<Record<string, string>>;
}

/** Where a subject's referrers are read: the OCI 1.1 referrers API, else the tag scheme's index. */
export interface ReferrerReader {
  /** What messages call it. */
  readonly name: string;
  /**
   * The referrers the store's OCI 1.1 referrers API lists for `subject`, or undefined when it has
   * no API (an OCI layout, or a registry such as distribution 2.x that answers 404).
   */
  listReferrers(subject: Descriptor): Promise<ImageIndex | undefined>;
  /** The manifest stored under `tag`, or undefined when the tag does not exist. */
  readTag(tag: string): Promise<Buffer | undefined>;
}

/** Where referrers are written, and how to see what is already there. */
export interface ReferrerStore extends ReferrerReader {
  target: ContentTarget;
}

/** How a referrer was made findable. */
export type ReferrerRoute = "referrers-api" | "tag-scheme";

/** The tag the OCI 1.1 fallback keeps a subject's referrers under: `sha256-<hex>`. */
export function referrersTag(subject: Descriptor): string {
  const digest = Digest.parse(subject.digest);
  return `${digest.algorithm}-${digest.hex}`;
}

const EMPTY = Buffer.from("{}");

/**
 * The referrers of `subject` that `reader` knows: the referrers API's list where there is one,
 * else the entries of the `sha256-<hex>` index (none when that tag is missing or is no index).
 * Only a list: whoever uses an entry must check the manifest it names.
 */
export async function listedReferrers(reader: ReferrerReader, subject: Descriptor): Promise<Descriptor[]> {
  const listed = await reader.listReferrers(subject);
  if (listed !== undefined) return listed.manifests;
  return (await tagSchemeIndex(reader, subject)) ?? [];
}

/**
 * The index entry that lists a referrer manifest, as the referrers API lists it: the manifest's
 * descriptor with its artifactType (else its config's media type) and its annotations.
 */
export function referrerEntry(descriptor: Descriptor, manifest: ImageManifest | ImageIndex): Descriptor {
  const artifactType =
    manifest.artifactType ?? ("config" in manifest ? manifest.config.mediaType : undefined);
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(manifest.annotations ? { annotations: { ...manifest.annotations } } : {}),
  };
}

/**
 * Attaches each of `artifacts` to `subject` as an OCI 1.1 referrer: an image manifest with the
 * artifact's type, the empty config, the document as its one layer, and `subject`. All of one
 * subject's referrers are stored first, then indexed at once (see indexReferrers), so a registry
 * without the API gets one update of the `sha256-<hex>` index, not one per document.
 * Reproducible: the manifests carry no time. Returns each artifact's manifest, in order.
 */
export async function attachReferrers(
  store: ReferrerStore,
  subject: Descriptor,
  artifacts: readonly ReferrerArtifact[],
): Promise<{ descriptors: Descriptor[]; route: ReferrerRoute | undefined }> {
  const { target } = store;
  const config = descriptorFor(MediaType.ociEmpty, EMPTY);
  await target.putBlob(config, () => Promise.resolve(Readable.from([EMPTY])));
  const descriptors: Descriptor[] = [];
  const entries: Descriptor[] = [];
  for (const artifact of artifacts) {
    const layer = descriptorFor(artifact.artifactType, artifact.bytes);
    await target.putBlob(layer, () => Promise.resolve(Readable.from([artifact.bytes])));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: artifact.artifactType,
      config: { ...config, data: EMPTY.toString("base64") } as Descriptor,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(artifact.annotations ? { annotations: { ...artifact.annotations } } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const descriptor = descriptorFor(MediaType.ociManifest, bytes);
    await target.putManifest(descriptor, bytes);
    descriptors.push(descriptor);
    entries.push(referrerEntry(descriptor, manifest));
  }
  return { descriptors, route: await indexReferrers(store, subject, entries) };
}

/**
 * Makes referrer manifests already stored in the store's target findable from `subject`. A store
 * with the referrers API indexes them by itself. Otherwise the tag scheme: the `sha256-<hex>`
 * index is read once, each entry replaces the one with its digest or is added at the end (what
 * others listed there stays, nothing is listed twice), and the index is written and tagged once
 * (a registry target skips a tag PUT when the tag already names those bytes). Undefined when there is
 * nothing to index.
 */
export async function indexReferrers(
  store: ReferrerStore,
  subject: Descriptor,
  entries: readonly Descriptor[],
): Promise<ReferrerRoute | undefined> {
  if (entries.length === 0) return undefined;
  if ((await store.listReferrers(subject)) !== undefined) return "referrers-api";
  const before = (await tagSchemeIndex(store, subject)) ?? [];
  const manifests: Descriptor[] = [];
  for (const entry of [...before, ...entries]) {
    const at = manifests.findIndex((m) => m.digest === entry.digest);
    if (at < 0) manifests.push(entry);
    // A later entry for the same digest is the fresher description of the same manifest.
    else manifests[at] = entry;
  }
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  const bytes = Buffer.from(JSON.stringify(index));
  const descriptor = descriptorFor(MediaType.ociIndex, bytes);
  await store.target.putManifest(descriptor, bytes);
  await store.target.tag(descriptor, [referrersTag(subject)]);
  return "tag-scheme";
}

// The entries of the tag scheme's index for `subject`, or undefined when there is none.
async function tagSchemeIndex(
  reader: ReferrerReader,
  subject: Descriptor,
): Promise<Descriptor[] | undefined> {
  const tag = referrersTag(subject);
  const existing = await reader.readTag(tag);
  return existing === undefined ? undefined : indexEntries(existing, `${reader.name}:${tag}`);
}

// Anything but an index under a referrers tag is not a referrers list: it is ignored, and
// replaced by the next update.
function indexEntries(bytes: Buffer, what: string): Descriptor[] | undefined {
  const parsed = parseManifest(bytes, undefined, what);
  return parsed.kind === "index" ? parsed.index.manifests : undefined;
}

/**
 * A referrer store on an OCI image layout: layouts have no referrers API, so the tag scheme's
 * `sha256-<hex>` index is kept as a ref name, which skopeo and oras read like any other.
 */
export function layoutReferrerStore(path: string, target: ContentTarget): ReferrerStore {
  return { target, ...layoutReferrerReader(path) };
}

/** Reads referrers in an OCI image layout: the tag scheme's `sha256-<hex>` ref names. */
export function layoutReferrerReader(path: string): ReferrerReader {
  return {
    name: `oci:${path}`,
    listReferrers: () => Promise.resolve(undefined),
    readTag: async (tag) => {
      const { LayoutSource } = await import("../layout/layout-source.js");
      const source = await LayoutSource.open(path, tag);
      try {
        return await source.fetchManifest(await source.resolve());
      } catch (error) {
        if ((error as { code?: unknown }).code === "REF_NOT_FOUND") return undefined;
        throw error;
      }
    },
  };
}
