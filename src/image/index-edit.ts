import { Digest } from "../oci/digest.js";
import type { Descriptor } from "../oci/descriptor.js";
import { buildImageIndex, encodeJSON, type ImageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import type { PlatformJSON } from "../oci/platform.js";
import { configPlatform, type Artifact, type Index, type IndexEntry } from "./image.js";

/** An image or index to list in an index, with what its entry says beyond its descriptor. */
export interface NewEntry {
  artifact: Artifact;
  /** The entry's platform (default: an image's config's; none for an index). */
  platform?: PlatformJSON;
  annotations?: Readonly<Record<string, string>>;
}

/** How an index is written. */
export interface IndexOptions {
  /** OCI image index (default) or Docker manifest list. */
  format?: "oci" | "docker";
  /** Index-level annotations. */
  annotations?: Readonly<Record<string, string>>;
}

/** The entry of an image or index in an index: its descriptor with a platform and annotations. */
export async function entryFor(entry: NewEntry): Promise<IndexEntry> {
  const { artifact } = entry;
  const plain = await artifact.descriptor();
  const platform = entry.platform ?? (artifact.kind === "image" ? await configPlatform(artifact) : undefined);
  const annotations =
    entry.annotations && Object.keys(entry.annotations).length > 0 ? entry.annotations : undefined;
  const descriptor: Descriptor = {
    mediaType: plain.mediaType,
    digest: plain.digest,
    size: plain.size,
    ...(annotations ? { annotations: { ...annotations } } : {}),
    ...(platform ? { platform } : {}),
  };
  return { descriptor, load: () => Promise.resolve(artifact) };
}

/** An index over the given images and indexes, in order: a value, computed when first asked. */
export function newIndex(entries: readonly NewEntry[], options: IndexOptions = {}): Index {
  return indexOf(async () => ({ ...options, entries: await Promise.all(entries.map(entryFor)) }));
}

/** What an index is made of. */
export interface IndexParts extends IndexOptions {
  entries: IndexEntry[];
}

/**
 * An index from its parts, given as a thunk so that nothing is read before it is needed. The
 * bytes are compact JSON in the canonical field order, so the same parts give the same digest.
 */
export function indexOf(parts: () => Promise<IndexParts>): Index {
  let computed: Promise<{ index: ImageIndex; bytes: Buffer; entries: IndexEntry[] }> | undefined;
  const compute = (): NonNullable<typeof computed> =>
    (computed ??= (async () => {
      const { entries, format, annotations } = await parts();
      const mediaType = format === "docker" ? MediaType.dockerManifestList : MediaType.ociIndex;
      const index = buildImageIndex(
        entries.map((entry) => entry.descriptor),
        {
          mediaType,
          ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
        },
      );
      return { index, bytes: encodeJSON(index), entries };
    })());
  return {
    kind: "index",
    descriptor: async () => {
      const { index, bytes } = await compute();
      return { mediaType: index.mediaType!, digest: Digest.of(bytes).toString(), size: bytes.length };
    },
    manifestBytes: async () => (await compute()).bytes,
    index: async () => (await compute()).index,
    entries: async () => (await compute()).entries,
  };
}

/** Changes to an index's entries and annotations. */
export interface IndexChanges {
  /** Entries appended (after `remove`); an entry naming a digest already listed replaces it in place. */
  add?: readonly NewEntry[];
  /** Entries to drop. */
  remove?: (descriptor: Descriptor) => boolean;
  /** Rewrites an entry's descriptor (platform, annotations); its digest, size and media type stay. */
  annotate?: (descriptor: Descriptor) => Descriptor;
  /** Index-level annotations set (a value) or removed (undefined). */
  annotations?: Readonly<Record<string, string | undefined>>;
  format?: "oci" | "docker";
}

/** An index with `changes` applied: a value, computed when first asked. */
export function editIndex(base: Index, changes: IndexChanges): Index {
  return indexOf(async () => {
    const current = await base.index();
    const annotations: Record<string, string> = { ...(current.annotations ?? {}) };
    for (const [key, value] of Object.entries(changes.annotations ?? {})) {
      if (value === undefined) delete annotations[key];
      else annotations[key] = value;
    }
    let entries = (await base.entries()).filter((entry) => !changes.remove?.(entry.descriptor));
    const annotate = changes.annotate;
    if (annotate) {
      entries = entries.map((entry) => {
        const { mediaType, digest, size } = entry.descriptor;
        return { ...entry, descriptor: { ...annotate(entry.descriptor), mediaType, digest, size } };
      });
    }
    for (const added of await Promise.all((changes.add ?? []).map(entryFor))) {
      const at = entries.findIndex((entry) => entry.descriptor.digest === added.descriptor.digest);
      if (at >= 0) entries[at] = added;
      else entries.push(added);
    }
    const format = changes.format ?? (current.mediaType === MediaType.dockerManifestList ? "docker" : "oci");
    return { entries, format, annotations };
  });
}
