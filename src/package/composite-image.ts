import { PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import { configPlatform, readArtifact, type Image } from "../image/image.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { Platform } from "../oci/platform.js";
import { parseMetadataStacks, parseModuleLayers } from "../buildpack/label-parse.js";
import type { ModuleKind } from "../buildpack/descriptor-types.js";
import {
  BUILDPACKAGE_METADATA_LABEL,
  layersLabelFor,
  type LabelStack,
  type ModuleLayers,
} from "../buildpack/labels.js";

/** What one included buildpack (or buildpackage) adds to a target's image. */
export interface DependencyLayers {
  layers: Layer[];
  moduleLayers: ModuleLayers;
  stacks: LabelStack[];
  warnings: string[];
}

/**
 * Takes the image for `platform` out of a buildpackage (a multi-arch index or a single image, in a
 * registry, a layout or a `.cnb`) and returns its layers, by reference, with its labels: nothing is
 * read but its manifests and config. Docker layer media types become their OCI equivalents (the
 * bytes are the same). An image that names no architecture (pack's long-standing bug) is accepted
 * for any target, with a warning.
 */
export async function layersFromImage(
  source: ContentSource,
  platform: Platform,
  kind: ModuleKind = "buildpack",
): Promise<DependencyLayers> {
  const { image, warnings } = chooseImage(await imagesOf(source), platform, source.name);
  const config = await image.config();
  const labels = config.config?.Labels ?? {};
  const labelName = layersLabelFor(kind);
  const layersLabel = labels[labelName];
  if (layersLabel === undefined) {
    throw new PolypackError(
      "BUILDPACKAGE_INVALID",
      `${source.name} is not ${kind === "extension" ? "an extension package" : "a buildpackage"}: it has no ${labelName} label`,
    );
  }
  const layers = (await image.layers()).map((layer) => ({
    ...layer,
    descriptor: ociLayerDescriptor(layer.descriptor),
  }));
  const metadata = labels[BUILDPACKAGE_METADATA_LABEL];
  return {
    layers,
    moduleLayers: parseModuleLayers(layersLabel, `${source.name} label ${labelName}`),
    stacks: metadata
      ? parseMetadataStacks(metadata, `${source.name} label ${BUILDPACKAGE_METADATA_LABEL}`)
      : [],
    warnings,
  };
}

/** An image of a buildpackage, with the platform its index entry or config gives. */
interface PlatformImage {
  image: Image;
  platform: Platform;
}

/** The images a source holds: the root image, or each image its index lists. */
async function imagesOf(source: ContentSource): Promise<PlatformImage[]> {
  const root = await readArtifact(source);
  if (root.kind === "image")
    return [{ image: root, platform: Platform.fromJSON(await configPlatform(root)) }];
  const images: PlatformImage[] = [];
  for (const entry of await root.entries()) {
    const child = await entry.load();
    if (child.kind !== "image") continue;
    const platform = entry.descriptor.platform ?? (await configPlatform(child));
    images.push({ image: child, platform: Platform.fromJSON(platform) });
  }
  if (images.length === 0) {
    throw new PolypackError("IMAGE_NOT_FOUND", `${source.name} holds an index without any image manifest`);
  }
  return images;
}

/**
 * The image for `wanted`: one that satisfies it (os.version included), else one whose platform
 * overlaps it and names the architecture (a buildpackage that does not say its distro version),
 * else one that names no architecture, with a warning.
 */
function chooseImage(
  images: readonly PlatformImage[],
  wanted: Platform,
  name: string,
): { image: Image; warnings: string[] } {
  const matching = images.filter((i) => i.platform.overlaps(wanted));
  const exact =
    matching.find((i) => i.platform.satisfies(wanted)) ??
    matching.find((i) => i.platform.architecture !== "");
  if (exact) return { image: exact.image, warnings: [] };
  const unnamed = matching[0];
  if (unnamed) {
    return {
      image: unnamed.image,
      warnings: [`${name} names no architecture; using it for ${wanted.toString()} unchecked`],
    };
  }
  const have = images.map((i) => i.platform.toString() || "(none)").join(", ");
  throw new PolypackError(
    "COMPOSITE_PLATFORM_MISSING",
    `${name} has no image for ${wanted.toString()}; it has ${have}`,
    {
      hint: "package that buildpack for this target too, or leave the target out",
    },
  );
}

/** A layer with a Docker gzip media type given its OCI name (the bytes are the same), for OCI manifests. */
export function asOciLayer(layer: Layer): Layer {
  return { ...layer, descriptor: ociLayerDescriptor(layer.descriptor) };
}

function ociLayerDescriptor(layer: Descriptor): Descriptor {
  const mediaType = layer.mediaType === MediaType.dockerLayerGzip ? MediaType.ociLayerGzip : layer.mediaType;
  return { mediaType, digest: layer.digest, size: layer.size };
}
