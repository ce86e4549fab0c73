import type { OciLayout } from "../layout/oci-layout.js";
import { layerMtime } from "../layer/header.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { PlatformJSON } from "../oci/platform.js";
import { storeImage, storeIndex, storeLayer, type StoredLayer } from "./image-writer.js";
import {
  addModuleLayer,
  BUILDPACKAGE_METADATA_LABEL,
  buildpackLayersLabel,
  layersLabelFor,
  type ModuleLayers,
} from "./labels.js";
import { targetLayerEntries, type EntrySources } from "./layer-entries.js";
import type { PackagePlan, TargetPlan } from "./plan.js";
import type { StoredBlob } from "./deliver.js";

/** Layers (and their label entries) of other buildpacks that go into a target's image first. */
export interface IncludedLayers {
  layers: StoredLayer[];
  moduleLayers: ModuleLayers;
  /** Replaces the plan's metadata label (a composite's stacks depend on its children). */
  metadataLabel?: string;
}

/** One image written for one target. */
export interface BuiltImage {
  key: string;
  platform: PlatformJSON;
  /** The image manifest's descriptor, with its platform. */
  manifest: Descriptor;
  /** The diffID of this buildpack's own layer. */
  layerDiffID: string;
  /** How this buildpack's own layer was made. */
  layerWrite: LayerWriteSummary;
  layers: number;
  dependencies: number;
}

/**
 * How a layer was made: whether it is new to the destination (one that already holds it gets
 * nothing), and how its gzip members were made: stored as they are, compressed, or from the cache.
 */
export interface LayerWriteSummary {
  written: boolean;
  members: number;
  stored: number;
  compressed: number;
  cacheHits: number;
  /** Cache entries that did not check out and were made again. */
  cacheRepaired: number;
}

/** What was written: the root (an index for several targets, else the one image) and each image. */
export interface BuildResult {
  root: Descriptor;
  images: BuiltImage[];
}

/** Options for `buildPackage`. */
export interface BuildOptions {
  /** The config's `created` and history time (default: SOURCE_DATE_EPOCH or 1980-01-01T00:00:01Z). */
  created?: Date;
  /** Other buildpacks' layers for a target (composite packages), stored into the same layout. */
  include?: (target: TargetPlan, layout: OciLayout) => Promise<IncludedLayers>;
  /** A directory of compressed layer pieces to reuse (see src/layer/README.md); none when unset. */
  layerCache?: string;
  /**
   * Whether the package's destination already holds a blob; a layer it holds is reported as
   * unchanged (`written` false in the summary), and delivery does not move it again.
   */
  alreadyStored?: (blob: StoredBlob) => Promise<boolean>;
  /** More labels for every image (`--label`); the buildpackage labels always win. */
  labels?: Readonly<Record<string, string>>;
  /** Called as each target's image is stored. */
  onImage?: (image: BuiltImage) => void;
}

/**
 * Writes a plan into an OCI layout's blob store: per target one layer for the buildpack, a config
 * with pack's labels and a manifest; with several targets an index over them, each entry carrying
 * its platform. index.json is left alone: the caller names the root when it delivers it.
 */
export async function buildPackage(
  plan: PackagePlan,
  layout: OciLayout,
  sources: EntrySources,
  options: BuildOptions = {},
): Promise<BuildResult> {
  const created = options.created ?? layerMtime();
  const images: BuiltImage[] = [];
  for (const target of plan.targets) {
    const included = (await options.include?.(target, layout)) ?? { layers: [], moduleLayers: {} };
    const own = await storeLayer(layout, targetLayerEntries(plan, target, sources), {
      ...(options.layerCache ? { memberCache: options.layerCache } : {}),
    });
    const unchanged = (await options.alreadyStored?.(own.descriptor)) ?? false;
    const moduleLayers: ModuleLayers = structuredClone(included.moduleLayers);
    addModuleLayer(moduleLayers, plan.id, plan.version, { ...plan.layerInfo, layerDiffID: own.diffID });
    const layers = [...included.layers, { descriptor: own.descriptor, diffID: own.diffID }];
    const manifest = await storeImage(
      layout,
      {
        platform: target.platform,
        layers,
        labels: {
          ...options.labels,
          [BUILDPACKAGE_METADATA_LABEL]: included.metadataLabel ?? plan.metadataLabel,
          [layersLabelFor(plan.kind)]: buildpackLayersLabel(moduleLayers),
        },
      },
      created,
    );
    const image: BuiltImage = {
      key: target.key,
      platform: target.platform,
      manifest,
      layerDiffID: own.diffID,
      layerWrite: {
        written: !unchanged,
        members: own.members?.members ?? 1,
        stored: own.members?.stored ?? 0,
        compressed: own.members?.compressed ?? 1,
        cacheHits: own.members?.cacheHits ?? 0,
        cacheRepaired: own.members?.cacheRepaired ?? 0,
      },
      layers: layers.length,
      dependencies: target.dependencies.length,
    };
    images.push(image);
    options.onImage?.(image);
  }
  const root =
    images.length === 1
      ? images[0]!.manifest
      : await storeIndex(
          layout,
          images.map((image) => image.manifest),
        );
  return { root, images };
}
