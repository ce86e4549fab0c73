import { resolve as resolvePath } from "node:path";
import type { Endpoint } from "../endpoints/endpoint.js";
import { PolypackError } from "../errors/index.js";
import { configPlatform, readArtifact, type Image } from "../image/image.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import { Reference } from "../registry/reference.js";

/** An image a source offers for an index: its entry as the index will list it, and where it lives. */
export interface Candidate {
  /** Media type, digest, size and the platform read from the image's config (or its entry). */
  descriptor: Descriptor;
  image: Image;
  /** Where the image lives, as the local index store records it (see StoredIndex.locations). */
  location: string;
  /** The source as the user named it, for messages. */
  from: string;
}

/**
 * Where the images of an endpoint live, without tag or ref, so that any of them can be read back
 * by digest: `registry/repo` for a registry, an absolute `oci:DIR` or `oci-archive:FILE` otherwise.
 */
export function locationOf(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "registry":
      return Reference.parse(endpoint.reference).name;
    case "layout":
      return `oci:${resolvePath(endpoint.path)}`;
    case "cnb":
      return `oci-archive:${resolvePath(endpoint.path)}`;
  }
}

// buildx lists attestations as entries of platform unknown/unknown: they are not images to run.
const UNKNOWN = "unknown";

/**
 * The images a source offers, each with its platform: the source itself when it names an image
 * (platform from its config), else the images of the index it names (platform from the entry,
 * else the config). `platforms`, when not empty, keeps only images that satisfy one of them. An
 * index listing another index is MANIFEST_NESTED_INDEX; a source left with no image is
 * IMAGE_NOT_FOUND.
 */
export async function candidatesOf(
  source: ContentSource,
  location: string,
  from: string,
  platforms: readonly Platform[] = [],
): Promise<Candidate[]> {
  const root = await readArtifact(source);
  const wanted = (platform: PlatformJSON): boolean =>
    platforms.length === 0 || platforms.some((p) => Platform.fromJSON(platform).satisfies(p));
  const candidate = async (image: Image, platform: PlatformJSON): Promise<Candidate> => {
    const { mediaType, digest, size } = await image.descriptor();
    return { descriptor: { mediaType, digest, size, platform }, image, location, from };
  };
  const found: Candidate[] = [];
  if (root.kind === "image") {
    const platform = await configPlatform(root);
    if (wanted(platform)) found.push(await candidate(root, platform));
  } else {
    for (const entry of await root.entries()) {
      const { descriptor } = entry;
      if (isIndexMediaType(descriptor.mediaType)) {
        throw new PolypackError(
          "MANIFEST_NESTED_INDEX",
          `${from} lists an index (${descriptor.digest}) among its entries; an index made here lists images only`,
        );
      }
      if (descriptor.platform?.os === UNKNOWN || descriptor.platform?.architecture === UNKNOWN) continue;
      const child = await entry.load();
      if (child.kind !== "image") {
        throw new PolypackError("MANIFEST_NESTED_INDEX", `${from} entry ${descriptor.digest} is an index`);
      }
      const platform = descriptor.platform ?? (await configPlatform(child));
      if (wanted(platform)) found.push(await candidate(child, platform));
    }
  }
  if (found.length === 0) {
    const which = platforms.length > 0 ? ` for ${platforms.map((p) => p.toString()).join(", ")}` : "";
    throw new PolypackError("IMAGE_NOT_FOUND", `${from} holds no image${which}`, {
      ...(platforms.length > 0 ? { hint: "check --platform against manifest inspect of the source" } : {}),
    });
  }
  return found;
}
