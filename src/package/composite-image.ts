import { PolypackError } from "../errors.js";
import type { OciLayout } from "../layout/oci-layout.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { readSourceImages, type SourceImage } from "./image-read.js";
import type { StoredLayer } from "./image-writer.js";
import { parseMetadataStacks, parseModuleLayers } from "./label-parse.js";
import {
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  type LabelStack,
  type ModuleLayers,
} from "./labels.js";

/** What one included buildpack (or buildpackage) adds to a target's image. */
export interface DependencyLayers {
  layers: StoredLayer[];
  moduleLayers: ModuleLayers;
  stacks: LabelStack[];
  warnings: string[];
}

/**
 * Takes the image for `platform` out of a buildpackage (a multi-arch index or a single image, in a
 * registry, a layout or a `.cnb`), copies its layers into `layout` and returns them with its labels.
 * Docker layer media types become their OCI equivalents (the bytes are the same). An image that
 * names no architecture (pack's long-standing bug) is accepted for any target, with a warning.
 */
export async function layersFromImage(
  source: ContentSource,
  platform: Platform,
  layout: OciLayout,
): Promise<DependencyLayers> {
  const images = await readSourceImages(source);
  const { image, warnings } = chooseImage(images, platform, source.name);
  const labels = image.config.config?.Labels ?? {};
  const layersLabel = labels[BUILDPACK_LAYERS_LABEL];
  if (layersLabel === undefined) {
    throw new PolypackError(
      "BUILDPACKAGE_INVALID",
      `${source.name} is not a buildpackage: it has no ${BUILDPACK_LAYERS_LABEL} label`,
    );
  }
  const diffIDs = image.config.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== image.manifest.layers.length) {
    throw new PolypackError(
      "BUILDPACKAGE_INVALID",
      `${source.name}@${image.descriptor.digest}: ${image.manifest.layers.length} layers but ${diffIDs.length} diff_ids`,
    );
  }
  const layers: StoredLayer[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const descriptor = ociLayerDescriptor(layer);
    await layout.putBlob(descriptor, () => source.openBlob(layer));
    layers.push({ descriptor, diffID: diffIDs[i]! });
  }
  const metadata = labels[BUILDPACKAGE_METADATA_LABEL];
  return {
    layers,
    moduleLayers: parseModuleLayers(layersLabel, `${source.name} label ${BUILDPACK_LAYERS_LABEL}`),
    stacks: metadata
      ? parseMetadataStacks(metadata, `${source.name} label ${BUILDPACKAGE_METADATA_LABEL}`)
      : [],
    warnings,
  };
}

function chooseImage(
  images: readonly SourceImage[],
  wanted: Platform,
  name: string,
): { image: SourceImage; warnings: string[] } {
  const same = (have: string, want: string): boolean => have === "" || want === "" || have === want;
  const matching = images.filter(
    (i) =>
      same(i.platform.os, wanted.os) &&
      same(i.platform.architecture, wanted.architecture) &&
      same(i.platform.variant, wanted.variant) &&
      same(i.platform.osVersion, wanted.osVersion),
  );
  const exact = matching.find((i) => i.platform.architecture === wanted.architecture);
  if (exact) return { image: exact, warnings: [] };
  const unnamed = matching[0];
  if (unnamed) {
    return {
      image: unnamed,
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

function ociLayerDescriptor(layer: Descriptor): Descriptor {
  const mediaType = layer.mediaType === MediaType.dockerLayerGzip ? MediaType.ociLayerGzip : layer.mediaType;
  return { mediaType, digest: layer.digest, size: layer.size };
}
