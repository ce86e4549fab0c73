import { Readable } from "node:stream";
import type { ContentTarget } from "../oci/content.js";
import { descriptorFor, type Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { parseManifest, type ImageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";

/** A document to attach to a manifest: an SBOM, a signature, an attestation. */
export interface ReferrerArtifact {
  /** The manifest's artifactType, also the media type of its one layer. */
  artifactType: string;
  bytes: Buffer;
  annotations?: Readonly<Record<string, string>>;
}

/** Where referrers are written, and how to see what is already there. */
export interface ReferrerStore {
  target: ContentTarget;
  /**
   * The referrers the store's OCI 1.1 referrers API lists for `subject`, or undefined when it has
   * no API (an OCI layout, or a registry such as distribution 2.x that answers 404).
   */
  listReferrers(subject: Descriptor): Promise<ImageIndex | undefined>;
  /** The manifest stored under `tag`, or undefined when the tag does not exist. */
  readTag(tag: string): Promise<Buffer | undefined>;
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
 * Attaches `artifact` to `subject` as an OCI 1.1 referrer: an image manifest with the artifact's
 * type, the empty config, the document as its one layer, and `subject`. A store with the referrers
 * API indexes it by itself; otherwise the `sha256-<hex>` index is read, the new manifest added to
 * it (once: attaching the same bytes again changes nothing) and the tag moved. Reproducible: the
 * manifest carries no time.
 */
export async function attachReferrer(
  store: ReferrerStore,
  subject: Descriptor,
  artifact: ReferrerArtifact,
): Promise<{ descriptor: Descriptor; route: ReferrerRoute }> {
  const { target } = store;
  const config = descriptorFor(MediaType.ociEmpty, EMPTY);
  const layer = descriptorFor(artifact.artifactType, artifact.bytes);
  await target.putBlob(config, () => Promise.resolve(Readable.from([EMPTY])));
  await target.putBlob(layer, () => Promise.resolve(Readable.from([artifact.bytes])));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: artifact.artifactType,
    config: { ...config, data: EMPTY.toString("base64") },
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(artifact.annotations ? { annotations: { ...artifact.annotations } } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = descriptorFor(MediaType.ociManifest, bytes);
  await target.putManifest(descriptor, bytes);
  const listed = await store.listReferrers(subject);
  if (listed !== undefined) return { descriptor, route: "referrers-api" };

  const tag = referrersTag(subject);
  const existing = await store.readTag(tag);
  const others: Descriptor[] = [];
  if (existing !== undefined) {
    const parsed = parseManifest(existing, undefined, `${target.name}:${tag}`);
    // Anything but an index under that tag is not a referrers list; it is replaced, not merged.
    if (parsed.kind === "index")
      others.push(...parsed.index.manifests.filter((m) => m.digest !== descriptor.digest));
  }
  const entry: Descriptor = {
    ...descriptor,
    artifactType: artifact.artifactType,
    ...(artifact.annotations ? { annotations: { ...artifact.annotations } } : {}),
  };
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...others, entry] };
  const indexBytes = Buffer.from(JSON.stringify(index));
  const indexDescriptor = descriptorFor(MediaType.ociIndex, indexBytes);
  await target.putManifest(indexDescriptor, indexBytes);
  await target.tag(indexDescriptor, [tag]);
  return { descriptor, route: "tag-scheme" };
}

/**
 * A referrer store on an OCI image layout: layouts have no referrers API, so the tag scheme's
 * `sha256-<hex>` index is kept as a ref name, which skopeo and oras read like any other.
 */
export function layoutReferrerStore(path: string, target: ContentTarget): ReferrerStore {
  return {
    target,
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
