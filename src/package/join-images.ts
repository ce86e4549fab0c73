import { copyMissing } from "../copy/copy.js";
import { PolypackError } from "../errors.js";
import type { ContentSource, ContentTarget } from "../oci/content.js";
import { descriptorFor, type Descriptor } from "../oci/descriptor.js";
import { buildImageIndex, encodeJSON } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import { readSourceImages } from "./image-read.js";

/** What `joinImages` wrote. */
export interface JoinResult {
  /** The new index. */
  index: Descriptor;
  /** Its entries, each with its platform. */
  manifests: Descriptor[];
  tags: string[];
}

/**
 * Joins images pushed separately (for example one per machine, by digest) into one multi-arch
 * index: reads each source's manifest and config for its platform (a source that is already an
 * index contributes its children), copies whatever the target lacks (blobs, then manifests by
 * digest), stores the index by digest and writes the tags last. Two images for one platform are
 * refused with MANIFEST_PLATFORM_DUPLICATE.
 */
export async function joinImages(
  sources: readonly ContentSource[],
  target: ContentTarget,
  tags: readonly string[],
): Promise<JoinResult> {
  const manifests: Descriptor[] = [];
  const seen = new Map<string, string>();
  for (const source of sources) {
    for (const image of await readSourceImages(source)) {
      const key = JSON.stringify(image.platform.toJSON());
      const other = seen.get(key);
      if (other !== undefined) {
        throw new PolypackError(
          "MANIFEST_PLATFORM_DUPLICATE",
          `${source.name} and ${other} both hold an image for ${image.platform.toString()}`,
          { hint: "an index may list each platform once; drop one of the sources" },
        );
      }
      seen.set(key, source.name);
      const { annotations: _annotations, ...plain } = image.descriptor;
      manifests.push(plain);
    }
  }
  try {
    // Each source's whole graph is checked in the target, not just its root (see copyMissing).
    for (const source of sources) await copyMissing(source, target, await source.resolve());
    const bytes = encodeJSON(buildImageIndex(manifests));
    const index = descriptorFor(MediaType.ociIndex, bytes);
    await target.putManifest(index, bytes);
    if (tags.length > 0) await target.tag(index, tags);
    await target.commit?.();
    return { index, manifests, tags: [...tags] };
  } catch (error) {
    await target.abort?.();
    throw error;
  }
}
