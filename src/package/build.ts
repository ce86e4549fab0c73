import type { Layer } from "../image/blob.js";
import { newIndex } from "../image/index-edit.js";
import type { Artifact, Image } from "../image/image.js";
import { emptyImage, mutateImage } from "../image/mutate.js";
import type { LayerSpool } from "../image/spool.js";
import { layerMtime } from "../layer/header.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { PlatformJSON } from "../oci/platform.js";
import {
  addModuleLayer,
  BUILDPACKAGE_METADATA_LABEL,
  buildpackLayersLabel,
  layersLabelFor,
  type ModuleLayers,
} from "../buildpack/labels.js";
import { scanLayerTar, type LayerScan } from "../verify/image-tree.js";
import { targetLayerEntries, type EntrySources } from "./layer-entries.js";
import { flattenLayers, type FlattenOptions } from "./flatten.js";
import type { PackagePlan, TargetPlan } from "./plan.js";

/** Layers (and their label entries) of other buildpacks that go into a target's image first. */
export interface IncludedLayers {
  layers: Layer[];
  moduleLayers: ModuleLayers;
  /** Replaces the plan's metadata label (a composite's stacks depend on its children). */
  metadataLabel?: string;
}

/** One image made for one target. */
export interface BuiltImage {
  key: string;
  platform: PlatformJSON;
  /** The image manifest's descriptor, with its platform. */
  manifest: Descriptor;
  /** The image, as a value the delivery writes. */
  image: Image;
  /** This buildpack's own layer. */
  layer: Layer;
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

/** What was made: the root (an index for several targets, else the one image) and each image. */
export interface BuildResult {
  root: Artifact;
  images: BuiltImage[];
}

/** Options for `buildPackage`. */
export interface BuildOptions {
  /** The config's `created` and history time (default: SOURCE_DATE_EPOCH or 1980-01-01T00:00:01Z). */
  created?: Date;
  /** Other buildpacks' layers for a target (composite packages), by reference or spooled. */
  include?: (target: TargetPlan, spool: LayerSpool) => Promise<IncludedLayers>;
  /** A directory of compressed layer pieces to reuse (see src/layer/README.md); none when unset. */
  layerCache?: string;
  /** More labels for every image (`--label`); the buildpackage labels always win. */
  labels?: Readonly<Record<string, string>>;
  /**
   * Filled with a scan of each layer this run writes, by layer digest, read from the tar as it is
   * written (see scanLayerTar), so that verification need not read the layers back.
   */
  scans?: Map<string, Promise<LayerScan>>;
  /** Called as each target's image is made. */
  onImage?: (image: BuiltImage) => void;
  /** pack's `--flatten`: the composite's modules in one layer (see flattenLayers). */
  flatten?: FlattenOptions;
  /** Told what the user should know (flattening's warnings). */
  onWarning?: (message: string) => void;
}

/**
 * Makes a plan's images: per target one layer for the buildpack (written into the spool), then an
 * empty image for the target's platform with the included layers and that layer appended and
 * pack's labels set; with several targets an index over them, each entry carrying its platform.
 * Nothing is stored: the result is a value that delivery writes to the destination.
 */
export async function buildPackage(
  plan: PackagePlan,
  spool: LayerSpool,
  sources: EntrySources,
  options: BuildOptions = {},
): Promise<BuildResult> {
  const created = options.created ?? layerMtime();
  const images: BuiltImage[] = [];
  for (const target of plan.targets) {
    const included = (await options.include?.(target, spool)) ?? { layers: [], moduleLayers: {} };
    const scanner = options.scans ? scanLayerTar(`the ${target.key} layer`) : undefined;
    const own = await spool.write(targetLayerEntries(plan, target, sources), {
      absoluteNames: true,
      mediaTypes: "oci",
      ...(options.layerCache ? { memberCache: options.layerCache } : {}),
      ...(scanner ? { tarTap: scanner.input } : {}),
    });
    if (scanner) options.scans?.set(own.descriptor.digest, scanner.result);
    let moduleLayers: ModuleLayers = structuredClone(included.moduleLayers);
    addModuleLayer(moduleLayers, plan.id, plan.version, { ...plan.layerInfo, layerDiffID: own.diffID });
    let layers: Layer[] = [...included.layers, own];
    if (options.flatten !== undefined && included.layers.length > 0) {
      const flat = await flattenLayers(layers, moduleLayers, spool, options.flatten);
      for (const warning of flat.warnings) options.onWarning?.(`${target.key}: ${warning}`);
      ({ layers, moduleLayers } = flat);
    }
    // With --flatten the buildpack's files are in the flattened layer; report that one.
    const mine = moduleLayers[plan.id]?.[plan.version]?.layerDiffID;
    const layer = layers.find((l) => l.diffID === mine) ?? own;
    const image = mutateImage(emptyImage(target.platform), {
      add: layers.map((layer) => ({ layer })),
      created,
      labels: {
        ...options.labels,
        [BUILDPACKAGE_METADATA_LABEL]: included.metadataLabel ?? plan.metadataLabel,
        [layersLabelFor(plan.kind)]: buildpackLayersLabel(moduleLayers),
      },
    });
    const members = own.written.members;
    const built: BuiltImage = {
      key: target.key,
      platform: target.platform,
      manifest: { ...(await image.descriptor()), platform: target.platform },
      image,
      layer,
      layerDiffID: layer.diffID,
      layerWrite: {
        written: true,
        members: members?.members ?? 1,
        stored: members?.stored ?? 0,
        compressed: members?.compressed ?? 1,
        cacheHits: members?.cacheHits ?? 0,
        cacheRepaired: members?.cacheRepaired ?? 0,
      },
      layers: layers.length,
      dependencies: target.dependencies.length,
    };
    images.push(built);
    options.onImage?.(built);
  }
  const root =
    images.length === 1
      ? images[0]!.image
      : newIndex(images.map(({ image, platform }) => ({ artifact: image, platform })));
  return { root, images };
}
