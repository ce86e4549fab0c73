import { PolypackError } from "../errors.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import {
  MAX_CONFIG_BYTES,
  parseImageConfig,
  parseManifest,
  type ImageConfig,
  type ImageManifest,
} from "../oci/manifest.js";
import { Platform } from "../oci/platform.js";
import { readCapped } from "../util/streams.js";

/** One single-platform image of a source, with its manifest and config read. */
export interface SourceImage {
  /** The manifest's descriptor, with the platform taken from its config when the index gave none. */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  platform: Platform;
}

/**
 * The images a source holds: the root itself when it is an image, else each child of its index
 * (nested indexes are not followed). The platform is the index entry's, else the config's.
 */
export async function readSourceImages(source: ContentSource): Promise<SourceImage[]> {
  const root = await source.resolve();
  const parsed = parseManifest(
    await source.fetchManifest(root),
    root.mediaType,
    `${source.name}@${root.digest}`,
  );
  if (parsed.kind === "image") return [await readImage(source, root, parsed.manifest)];
  const images: SourceImage[] = [];
  for (const child of parsed.index.manifests) {
    const bytes = await source.fetchManifest(child);
    const manifest = parseManifest(bytes, child.mediaType, `${source.name}@${child.digest}`);
    if (manifest.kind === "image") images.push(await readImage(source, child, manifest.manifest));
  }
  if (images.length === 0) {
    throw new PolypackError("IMAGE_NOT_FOUND", `${source.name} holds an index without any image manifest`);
  }
  return images;
}

/** Reads an image's config and works out its platform. */
export async function readImage(
  source: ContentSource,
  descriptor: Descriptor,
  manifest: ImageManifest,
): Promise<SourceImage> {
  const bytes = await readCapped(() => source.openBlob(manifest.config), MAX_CONFIG_BYTES, {
    declaredSize: manifest.config.size,
    tooLarge: () =>
      new PolypackError("CONFIG_TOO_LARGE", `${source.name}: config ${manifest.config.digest} is too large`),
  });
  const config = parseImageConfig(bytes, `${source.name}@${manifest.config.digest}`);
  const platform = Platform.fromJSON(descriptor.platform ?? config);
  return { descriptor: { ...descriptor, platform: platform.toJSON() }, manifest, config, platform };
}
