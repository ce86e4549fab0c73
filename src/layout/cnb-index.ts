import type { Descriptor } from "../oci/descriptor.js";
import type { ImageIndex } from "../oci/manifest.js";
import { isImageMediaType } from "../oci/media-types.js";
import { Platform } from "../oci/platform.js";
import { withoutRefName } from "./layout-files.js";

/** pack's platform when a buildpack names no targets, and so the best guess for what pack wants. */
export const PACK_DEFAULT_PLATFORM = new Platform({ os: "linux", architecture: "amd64" });

/**
 * The child of a multi-arch index that pack should read from a `.cnb`: the first image manifest
 * whose platform satisfies `preferred` (default linux/amd64), else the first image manifest.
 */
export function choosePackManifest(
  index: ImageIndex,
  preferred: Platform = PACK_DEFAULT_PLATFORM,
): Descriptor | undefined {
  const images = index.manifests.filter((child) => isImageMediaType(child.mediaType));
  const matching = images.find(
    (child) => child.platform && Platform.fromJSON(child.platform).satisfies(preferred),
  );
  return matching ?? images[0];
}

/**
 * index.json entries of a multi-arch `.cnb`. skopeo copies a multi-arch image from
 * `oci-archive:FILE:REF` only through an entry named REF that points at an image index, but pack
 * takes the first entry with an image manifest media type and never opens an index. So besides
 * the named index entries, one platform's manifest is listed after them, without a name: pack
 * reads it, skopeo (looking up REF) and polypack (preferring the only index) ignore it.
 * Entries are returned unchanged when one already has an image manifest media type.
 */
export function withPackManifest(
  manifests: readonly Descriptor[],
  packManifest: Descriptor | undefined,
): Descriptor[] {
  if (packManifest === undefined || manifests.some((entry) => isImageMediaType(entry.mediaType))) {
    return [...manifests];
  }
  return [...manifests, withoutRefName(packManifest)];
}
