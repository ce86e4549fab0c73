import type { BuildpackDescriptor, GroupEntry, Stack, Target } from "./descriptor-types.js";
import { encodeGoJSON, sortedByGoKey, type GoJSONValue } from "../oci/go-json.js";

/** The label holding the top buildpack's info and stacks. */
export const BUILDPACKAGE_METADATA_LABEL = "io.buildpacks.buildpackage.metadata";
/** The label mapping every buildpack in the image to its layer. */
export const BUILDPACK_LAYERS_LABEL = "io.buildpacks.buildpack.layers";
/** The label mapping the image extension in an extension package to its layer. */
/** The label a builder image describes itself with (buildpacks, lifecycle, run images). */
export const BUILDER_METADATA_LABEL = "io.buildpacks.builder.metadata";
/** The label holding a builder's detection order, as builder.toml gave it. */
export const BUILDPACK_ORDER_LABEL = "io.buildpacks.buildpack.order";
/** The label holding a builder's extension order. */
export const BUILDPACK_ORDER_EXTENSIONS_LABEL = "io.buildpacks.buildpack.order-extensions";
/** The label holding a builder's system buildpacks. */
export const BUILDPACK_SYSTEM_LABEL = "io.buildpacks.buildpack.system";
export const EXTENSION_LAYERS_LABEL = "io.buildpacks.extension.layers";

/** The layers label of a package of this kind of module. */
export function layersLabelFor(kind: BuildpackDescriptor["kind"]): string {
  return kind === "extension" ? EXTENSION_LAYERS_LABEL : BUILDPACK_LAYERS_LABEL;
}

/** One stack as pack writes it in labels. */
export interface LabelStack {
  id: string;
  mixins?: string[];
}

/** One target as pack writes it in the layers label (`dist.Target`). */
export interface LabelTarget {
  os: string;
  arch: string;
  variant?: string;
  distros?: { name?: string; version?: string }[];
}

/** One `[[order.group]]` entry as pack writes it (`dist.ModuleRef`: every `dist.ModuleInfo` field, then `optional`). */
export interface LabelGroupEntry {
  id: string;
  name?: string;
  version?: string;
  description?: string;
  homepage?: string;
  keywords?: string[];
  execEnv?: string[];
  licenses?: { type?: string; uri?: string }[];
  clearEnv?: boolean;
  optional?: boolean;
}

/** What pack records for one buildpack version in the layers label (`dist.ModuleLayerInfo`). */
export interface ModuleLayerInfo {
  api: string;
  stacks?: LabelStack[];
  targets?: LabelTarget[];
  order?: { group: LabelGroupEntry[] }[];
  layerDiffID: string;
  homepage?: string;
  name?: string;
}

/** The layers label: buildpack id → version → layer info. */
export type ModuleLayers = Record<string, Record<string, ModuleLayerInfo>>;

/**
 * The stacks the layers label records for a buildpack: its own `[[stacks]]`, none when it declares
 * none (pack writes the descriptor's stacks there as they are).
 */
export function labelStacks(descriptor: Pick<BuildpackDescriptor, "stacks">): LabelStack[] {
  return descriptor.stacks.map(labelStack);
}

/**
 * The stacks a buildpack brings to the buildpackage metadata label and to stack resolution, as
 * pack's `resolvedStacks` sees them: its `[[stacks]]`, or `*` (any stack) for a buildpack that
 * declares only targets, or none for a composite buildpack.
 */
export function packageStacks(descriptor: Pick<BuildpackDescriptor, "stacks" | "order">): LabelStack[] {
  if (descriptor.stacks.length > 0) return descriptor.stacks.map(labelStack);
  return descriptor.order.length > 0 ? [] : [{ id: "*" }];
}

/**
 * The layer info of one buildpack, without its diffID (known once the layer is written), as pack's
 * `dist.AddToLayersMD` fills it from the descriptor. An image extension has no stacks or order, but
 * its targets are recorded like a buildpack's.
 */
export function moduleLayerInfo(descriptor: BuildpackDescriptor, layerDiffID: string): ModuleLayerInfo {
  const stacks = descriptor.kind === "extension" ? [] : labelStacks(descriptor);
  return {
    api: descriptor.api,
    ...(stacks.length > 0 ? { stacks } : {}),
    ...(descriptor.targets.length > 0 ? { targets: descriptor.targets.map(labelTarget) } : {}),
    ...(descriptor.order.length > 0
      ? { order: descriptor.order.map((entry) => ({ group: entry.group.map(labelGroupEntry) })) }
      : {}),
    layerDiffID,
    ...(descriptor.info.homepage ? { homepage: descriptor.info.homepage } : {}),
    ...(descriptor.info.name ? { name: descriptor.info.name } : {}),
  };
}

/**
 * The value of `io.buildpacks.buildpackage.metadata`, byte for byte as pack writes it: the top
 * buildpack's info (`dist.ModuleInfo`, empty fields left out) followed by the resolved stacks,
 * which are always present (`null` for an image extension, which has none). Licenses carry Go's
 * field names `Type` and `URI` because pack's License struct has no JSON tags.
 */
export function buildpackageMetadataLabel(
  descriptor: BuildpackDescriptor,
  stacks: readonly LabelStack[] | null,
): string {
  const { info } = descriptor;
  const execEnv = stringArray(tableOf(descriptor.document, descriptor.kind)["exec-env"]);
  const value: Record<string, GoJSONValue> = {
    id: info.id || undefined,
    name: info.name || undefined,
    version: info.version || undefined,
    description: info.description || undefined,
    homepage: info.homepage || undefined,
    keywords: info.keywords.length > 0 ? info.keywords : undefined,
    "exec-env": execEnv.length > 0 ? execEnv : undefined,
    licenses:
      info.licenses.length > 0
        ? info.licenses.map((license) => ({ Type: license.type ?? "", URI: license.uri ?? "" }))
        : undefined,
    "clear-env": info.clearEnv || undefined,
    stacks: stacks === null ? null : stacks.map(stackJSON),
  };
  return encodeGoJSON(value);
}

/** The value of `io.buildpacks.buildpack.layers`: ids and versions sorted as Go sorts map keys. */
export function buildpackLayersLabel(layers: ModuleLayers): string {
  const sorted: Record<string, GoJSONValue> = {};
  for (const [id, versions] of Object.entries(sortedByGoKey(layers))) {
    const byVersion: Record<string, GoJSONValue> = {};
    for (const [version, info] of Object.entries(sortedByGoKey(versions)))
      byVersion[version] = layerInfoJSON(info);
    sorted[id] = byVersion;
  }
  return encodeGoJSON(sorted);
}

/** Adds one buildpack's layer info to a layers map (a later entry for the same id@version wins). */
export function addModuleLayer(
  layers: ModuleLayers,
  id: string,
  version: string,
  info: ModuleLayerInfo,
): void {
  layers[id] = { ...layers[id], [version]: info };
}

function layerInfoJSON(info: ModuleLayerInfo): GoJSONValue {
  return {
    api: info.api,
    stacks: info.stacks && info.stacks.length > 0 ? info.stacks.map(stackJSON) : undefined,
    targets: info.targets && info.targets.length > 0 ? info.targets.map(targetJSON) : undefined,
    order:
      info.order && info.order.length > 0
        ? info.order.map((entry) => ({ group: entry.group.map(groupEntryJSON) }))
        : undefined,
    layerDiffID: info.layerDiffID,
    homepage: info.homepage || undefined,
    name: info.name || undefined,
  };
}

function stackJSON(stack: LabelStack): GoJSONValue {
  return { id: stack.id, mixins: stack.mixins && stack.mixins.length > 0 ? stack.mixins : undefined };
}

function targetJSON(target: LabelTarget): GoJSONValue {
  return {
    os: target.os,
    arch: target.arch,
    variant: target.variant || undefined,
    distros:
      target.distros && target.distros.length > 0
        ? target.distros.map((d) => ({ name: d.name || undefined, version: d.version || undefined }))
        : undefined,
  };
}

// dist.ModuleRef embeds dist.ModuleInfo, so a group entry has ModuleInfo's fields before `optional`.
function groupEntryJSON(entry: LabelGroupEntry): GoJSONValue {
  return {
    id: entry.id || undefined,
    name: entry.name || undefined,
    version: entry.version || undefined,
    description: entry.description || undefined,
    homepage: entry.homepage || undefined,
    keywords: entry.keywords && entry.keywords.length > 0 ? entry.keywords : undefined,
    "exec-env": entry.execEnv && entry.execEnv.length > 0 ? entry.execEnv : undefined,
    licenses:
      entry.licenses && entry.licenses.length > 0
        ? entry.licenses.map((license) => ({ Type: license.type ?? "", URI: license.uri ?? "" }))
        : undefined,
    "clear-env": entry.clearEnv || undefined,
    optional: entry.optional || undefined,
  };
}

function labelStack(stack: Stack): LabelStack {
  return stack.mixins.length > 0 ? { id: stack.id, mixins: [...stack.mixins] } : { id: stack.id };
}

/** A target as the layers label records it (os and arch always, even when empty). */
export function labelTarget(target: Target): LabelTarget {
  const { os, architecture, variant } = target.platform;
  return {
    os,
    arch: architecture,
    ...(variant ? { variant } : {}),
    ...(target.distros.length > 0
      ? { distros: target.distros.map((d) => ({ name: d.name, version: d.version })) }
      : {}),
  };
}

function labelGroupEntry(entry: GroupEntry): LabelGroupEntry {
  return {
    ...entry.info,
    id: entry.id,
    ...(entry.version ? { version: entry.version } : {}),
    ...(entry.optional ? { optional: true } : {}),
  };
}

function tableOf(document: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = document[key];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
