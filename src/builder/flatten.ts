import type { Layer } from "../image/blob.js";
import type { LayerSpool } from "../image/spool.js";
import type { ModuleLayerInfo, ModuleLayers } from "../buildpack/labels.js";
import { flattenLayers } from "../package/flatten.js";

/** A module on the builder: its layer and its layers-label entry. */
export interface BuilderModule {
  id: string;
  version: string;
  layer: Layer;
  info: ModuleLayerInfo;
  /** The order builder.toml brings it in: pack writes a flattened layer's modules in that order. */
  added: number;
}

/**
 * pack's `builder create --flatten`: each group of `<id>@<version>` names becomes one layer (see
 * flattenLayers; its modules in builder.toml's order, as pack adds them), and its modules' label
 * entries point at it. As pack adds them, the flattened layers
 * come first, ordered by their first module's id@version, then the other modules' layers in the
 * modules' order (a layer several modules share is added once). A module named by two groups goes
 * into the first; names no module has are left to the caller to report.
 */
export async function flattenBuilderModules(
  modules: readonly BuilderModule[],
  groups: readonly (readonly string[])[],
  spool: LayerSpool,
  kind: "buildpack" | "extension",
): Promise<{ modules: BuilderModule[]; layers: Layer[] }> {
  const name = (m: BuilderModule): string => `${m.id}@${m.version}`;
  const taken = new Set<string>();
  const flattened: { first: string; layer: Layer }[] = [];
  const relabelled = new Map<string, BuilderModule>();
  for (const group of groups) {
    const members = modules
      .filter((m) => group.includes(name(m)) && !taken.has(name(m)))
      .sort((a, b) => a.added - b.added);
    for (const m of members) taken.add(name(m));
    if (members.length === 0) continue;
    const layers = members
      .map((m) => m.layer)
      .filter((layer, i, all) => all.findIndex((l) => l.diffID === layer.diffID) === i);
    const label: ModuleLayers = {};
    for (const m of members) label[m.id] = { ...label[m.id], [m.version]: m.info };
    const flat = await flattenLayers(layers, label, spool, {
      parent: kind === "extension" ? "/cnb/extensions" : "/cnb/buildpacks",
    });
    const layer = flat.layers[0]!;
    flattened.push({ first: members.map(name).sort()[0]!, layer });
    for (const m of members)
      relabelled.set(name(m), { ...m, layer, info: { ...m.info, layerDiffID: layer.diffID } });
  }
  const result = modules.map((m) => relabelled.get(name(m)) ?? m);
  const layers: Layer[] = [];
  const add = (layer: Layer): void => {
    if (!layers.some((l) => l.diffID === layer.diffID)) layers.push(layer);
  };
  for (const { layer } of flattened.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0)))
    add(layer);
  for (const m of result) if (!taken.has(name(m))) add(m.layer);
  return { modules: result, layers };
}
