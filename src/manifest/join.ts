import { PolypackError } from "../errors/index.js";
import { configPlatform, readArtifact, type Image } from "../image/image.js";
import { newIndex, type NewEntry } from "../image/index-edit.js";
import type { WriteEvent } from "../image/write.js";
import type { ContentSource, ContentTarget } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import { publishIndex } from "./publish.js";

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
 * index: each source's platform is read from its config (a source that is already an index
 * contributes its images, with the platforms its entries give), and the index is written with the
 * image model's `write`, so whatever the target lacks is written (mounted from another repository
 * of the same registry when it can be), children by digest, and the tags last. Two images for one
 * platform are refused with MANIFEST_PLATFORM_DUPLICATE; before anything is written the images are
 * checked as the manifest verbs check them (see checkIndex), so images of different buildpacks are
 * refused with MANIFEST_CHILDREN_DIFFER.
 */
export async function joinImages(
  sources: readonly ContentSource[],
  target: ContentTarget,
  tags: readonly string[],
  onEvent?: (event: WriteEvent) => void,
): Promise<JoinResult> {
  const entries: NewEntry[] = [];
  const seen: { platform: Platform; name: string }[] = [];
  try {
    for (const source of sources) {
      for (const { image, platform } of await imagesOf(source)) {
        const value = Platform.fromJSON(platform);
        const other = seen.find((s) => s.platform.equals(value));
        if (other !== undefined) {
          throw new PolypackError(
            "MANIFEST_PLATFORM_DUPLICATE",
            `${source.name} and ${other.name} both hold an image for ${value.toString()}`,
            { hint: "an index may list each platform once; drop one of the sources" },
          );
        }
        seen.push({ platform: value, name: source.name });
        entries.push({ artifact: image, platform });
      }
    }
  } catch (error) {
    await target.abort?.();
    throw error;
  }
  const index = newIndex(entries);
  // The same checks as the manifest verbs: each image's platform, one buildpack or builder.
  const report = await publishIndex(index, target.name, target, tags, onEvent);
  return { index: report.root, manifests: (await index.index()).manifests, tags: [...tags] };
}

/**
 * The images a source holds with their platforms: the root itself when it is an image (platform
 * from its config), else each image its index lists (platform from the entry, else the config;
 * nested indexes are not followed).
 */
async function imagesOf(source: ContentSource): Promise<{ image: Image; platform: PlatformJSON }[]> {
  const root = await readArtifact(source);
  if (root.kind === "image") return [{ image: root, platform: await configPlatform(root) }];
  const images: { image: Image; platform: PlatformJSON }[] = [];
  for (const entry of await root.entries()) {
    const child = await entry.load();
    if (child.kind !== "image") continue;
    images.push({ image: child, platform: entry.descriptor.platform ?? (await configPlatform(child)) });
  }
  if (images.length === 0) {
    throw new PolypackError("IMAGE_NOT_FOUND", `${source.name} holds an index without any image manifest`);
  }
  return images;
}
