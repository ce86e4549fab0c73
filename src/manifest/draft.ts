import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { buildImageIndex, type ImageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import type { Candidate } from "./sources.js";

/**
 * An index being made or edited by the manifest verbs: the index itself and where each child
 * lives. Every change gives a new draft; the same changes give the same bytes, so re-running a
 * verb gives the same digest.
 */
export interface IndexDraft {
  index: ImageIndex;
  /** Where each child lives, by digest (see StoredIndex.locations). */
  locations: Record<string, string>;
}

/** The two index formats: an OCI image index or a Docker manifest list. */
export type IndexFormat = "oci" | "docker";

/** An index with no entries yet. */
export function emptyDraft(format: IndexFormat, annotations: Record<string, string> = {}): IndexDraft {
  return { index: indexOf([], format, annotations), locations: {} };
}

/** The format of an index, read from its media type. */
export function formatOf(index: ImageIndex): IndexFormat {
  return index.mediaType === MediaType.dockerManifestList ? "docker" : "oci";
}

/**
 * A draft with the candidates appended. An image already listed for the same platform is left as
 * it is (so adding twice changes nothing); another image for a platform already listed is
 * MANIFEST_PLATFORM_DUPLICATE, as is a platform given twice among the candidates.
 */
export function addImages(draft: IndexDraft, candidates: readonly Candidate[]): IndexDraft {
  const manifests = [...draft.index.manifests];
  const locations = { ...draft.locations };
  const origin = new Map<string, string>();
  for (const candidate of candidates) {
    const { descriptor } = candidate;
    const platform = Platform.fromJSON(descriptor.platform ?? {});
    const clash = manifests.find((m) => Platform.fromJSON(m.platform ?? {}).equals(platform));
    if (clash?.digest === descriptor.digest) continue;
    if (clash !== undefined) {
      const other = origin.get(clash.digest) ?? `the index's entry ${clash.digest}`;
      throw new PolypackError(
        "MANIFEST_PLATFORM_DUPLICATE",
        `${candidate.from} (${descriptor.digest}) and ${other} are both for ${describePlatform(platform)}`,
        {
          hint: "an index lists each platform once: drop one, or remove the listed one first with manifest rm",
        },
      );
    }
    manifests.push(entryDescriptor(descriptor));
    locations[descriptor.digest] = candidate.location;
    origin.set(descriptor.digest, candidate.from);
  }
  return { index: { ...draft.index, manifests }, locations };
}

/** A draft without the entries of these digests; one the index does not list is MANIFEST_ENTRY_NOT_FOUND. */
export function removeImages(draft: IndexDraft, digests: readonly string[], name: string): IndexDraft {
  for (const digest of digests) requireEntry(draft, digest, name);
  const manifests = draft.index.manifests.filter((m) => !digests.includes(m.digest));
  const locations = { ...draft.locations };
  for (const digest of digests) delete locations[digest];
  return { index: { ...draft.index, manifests }, locations };
}

/** What `manifest annotate` changes in one entry. */
export interface EntryChanges {
  os?: string;
  architecture?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: readonly string[];
  /** Descriptor annotations set (merged over the entry's own). */
  annotations?: Readonly<Record<string, string>>;
}

/**
 * A draft with one entry's platform fields and annotations changed. The entry must be listed
 * (MANIFEST_ENTRY_NOT_FOUND), and its new platform must not be another entry's
 * (MANIFEST_PLATFORM_DUPLICATE).
 */
export function annotateImage(
  draft: IndexDraft,
  digest: string,
  changes: EntryChanges,
  name: string,
): IndexDraft {
  const entry = requireEntry(draft, digest, name);
  // Written as given (not normalised), so an arm64 entry keeps the variant v8 it is given.
  const json = platformJSON(entry.platform, changes);
  const platform = Platform.fromJSON(json);
  const clash = draft.index.manifests.find(
    (m) => m.digest !== digest && Platform.fromJSON(m.platform ?? {}).equals(platform),
  );
  if (clash) {
    throw new PolypackError(
      "MANIFEST_PLATFORM_DUPLICATE",
      `${name} already lists ${clash.digest} for ${describePlatform(platform)}`,
      { hint: "an index lists each platform once: remove the other entry first with manifest rm" },
    );
  }
  const annotations = { ...(entry.annotations ?? {}), ...(changes.annotations ?? {}) };
  const changed = entryDescriptor({
    ...entry,
    platform: json,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  });
  const manifests = draft.index.manifests.map((m) => (m.digest === digest ? changed : m));
  return { ...draft, index: { ...draft.index, manifests } };
}

/** An entry's platform with the fields `changes` gives replaced, in the image model's field order. */
function platformJSON(platform: PlatformJSON | undefined, changes: EntryChanges): PlatformJSON {
  const osVersion = changes.osVersion ?? platform?.["os.version"];
  const osFeatures = changes.osFeatures ?? platform?.["os.features"];
  const variant = changes.variant ?? platform?.variant;
  return {
    architecture: changes.architecture ?? platform?.architecture ?? "",
    os: changes.os ?? platform?.os ?? "",
    ...(osVersion ? { "os.version": osVersion } : {}),
    ...(osFeatures && osFeatures.length > 0 ? { "os.features": [...osFeatures] } : {}),
    ...(variant ? { variant } : {}),
    ...(platform?.features ? { features: platform.features } : {}),
  };
}

/** A draft with index-level annotations set (a value) or removed (an empty value). */
export function annotateIndex(draft: IndexDraft, annotations: Readonly<Record<string, string>>): IndexDraft {
  const merged: Record<string, string> = { ...(draft.index.annotations ?? {}) };
  for (const [key, value] of Object.entries(annotations)) {
    if (value === "") delete merged[key];
    else merged[key] = value;
  }
  return { ...draft, index: indexOf(draft.index.manifests, formatOf(draft.index), merged) };
}

/** A draft written in another format (same entries and annotations). */
export function withFormat(draft: IndexDraft, format: IndexFormat): IndexDraft {
  const { index } = draft;
  return { ...draft, index: indexOf(index.manifests, format, index.annotations ?? {}) };
}

/** The entry listing `digest`, or MANIFEST_ENTRY_NOT_FOUND. */
function requireEntry(draft: IndexDraft, digest: string, name: string): Descriptor {
  const entry = draft.index.manifests.find((m) => m.digest === digest);
  if (!entry) {
    throw new PolypackError("MANIFEST_ENTRY_NOT_FOUND", `${name} lists no image ${digest}`, {
      hint: `run manifest inspect ${name} to see the digests it lists`,
    });
  }
  return entry;
}

/** An index in the canonical field order. */
function indexOf(
  manifests: Descriptor[],
  format: IndexFormat,
  annotations: Record<string, string>,
): ImageIndex {
  const mediaType = format === "docker" ? MediaType.dockerManifestList : MediaType.ociIndex;
  return buildImageIndex(manifests, {
    mediaType,
    ...(Object.keys(annotations).length > 0 ? { annotations: sortedRecord(annotations) } : {}),
  });
}

/** An entry in the order the image model writes it: media type, digest, size, annotations, platform. */
function entryDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations && Object.keys(d.annotations).length > 0
      ? { annotations: sortedRecord(d.annotations) }
      : {}),
    ...(d.platform ? { platform: d.platform } : {}),
  };
}

/** The same keys in sorted order, so annotations given in another order give the same bytes. */
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A platform with os.version and os.features, for messages. */
export function describePlatform(platform: Platform | PlatformJSON): string {
  const value = platform instanceof Platform ? platform : Platform.fromJSON(platform);
  const extra = [
    value.osVersion ? `os.version ${value.osVersion}` : "",
    value.osFeatures.length > 0 ? `os.features ${value.osFeatures.join(",")}` : "",
  ].filter((part) => part !== "");
  return `${value.toString()}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
}
