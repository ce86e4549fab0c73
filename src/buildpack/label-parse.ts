import { checkModuleReference } from "../buildpack/module-id.js";
import { PolypackError } from "../errors/index.js";
import type { LabelGroupEntry, LabelStack, LabelTarget, ModuleLayerInfo, ModuleLayers } from "./labels.js";

type Json = Record<string, unknown>;

/**
 * Reads an `io.buildpacks.buildpack.layers` label the way pack decodes it into its structs: known
 * fields are kept, unknown ones dropped, so re-encoding gives what pack itself would write.
 * Throws BUILDPACKAGE_INVALID naming `where`.
 */
export function parseModuleLayers(text: string, where: string): ModuleLayers {
  const root = parseObject(text, where);
  const layers: ModuleLayers = {};
  for (const [id, versions] of Object.entries(root)) {
    // Checked before use as a key, which also keeps out names such as `__proto__`.
    checkReference(where, id, undefined, "a buildpack");
    if (!isObject(versions)) throw invalid(where, `buildpack ${id} is not an object`);
    layers[id] = {};
    for (const [version, info] of Object.entries(versions)) {
      checkReference(where, id, version, `buildpack ${JSON.stringify(id)}`);
      if (!isObject(info) || typeof info["layerDiffID"] !== "string") {
        throw invalid(where, `${id}@${version} has no layerDiffID`);
      }
      layers[id][version] = layerInfo(info);
      for (const { group } of layers[id][version].order ?? []) {
        for (const entry of group) checkReference(where, entry.id, entry.version, `${id}@${version} order`);
      }
    }
  }
  return layers;
}

/** The `stacks` of an `io.buildpacks.buildpackage.metadata` label (empty when it has none). */
export function parseMetadataStacks(text: string, where: string): LabelStack[] {
  const stacks = parseObject(text, where)["stacks"];
  return Array.isArray(stacks) ? stacks.filter(isObject).map(stack) : [];
}

function layerInfo(info: Json): ModuleLayerInfo {
  const stacks = arrayOf(info["stacks"]).map(stack);
  const targets = arrayOf(info["targets"]).map(target);
  const order = arrayOf(info["order"]).map((entry) => ({ group: arrayOf(entry["group"]).map(groupEntry) }));
  return {
    api: str(info["api"]),
    ...(stacks.length > 0 ? { stacks } : {}),
    ...(targets.length > 0 ? { targets } : {}),
    ...(order.length > 0 ? { order } : {}),
    layerDiffID: str(info["layerDiffID"]),
    ...(str(info["homepage"]) ? { homepage: str(info["homepage"]) } : {}),
    ...(str(info["name"]) ? { name: str(info["name"]) } : {}),
  };
}

function stack(value: Json): LabelStack {
  const mixins = arrayOfStrings(value["mixins"]);
  return mixins.length > 0 ? { id: str(value["id"]), mixins } : { id: str(value["id"]) };
}

function target(value: Json): LabelTarget {
  const distros = arrayOf(value["distros"]).map((d) => ({
    ...(str(d["name"]) ? { name: str(d["name"]) } : {}),
    ...(str(d["version"]) ? { version: str(d["version"]) } : {}),
  }));
  return {
    os: str(value["os"]),
    arch: str(value["arch"]),
    ...(str(value["variant"]) ? { variant: str(value["variant"]) } : {}),
    ...(distros.length > 0 ? { distros } : {}),
  };
}

// pack decodes a group entry into dist.ModuleRef: all of dist.ModuleInfo, then `optional`.
function groupEntry(value: Json): LabelGroupEntry {
  const keywords = arrayOfStrings(value["keywords"]);
  const execEnv = arrayOfStrings(value["exec-env"]);
  const licenses = arrayOf(value["licenses"]).map((l) => ({ type: str(l["Type"]), uri: str(l["URI"]) }));
  return {
    id: str(value["id"]),
    ...(str(value["name"]) ? { name: str(value["name"]) } : {}),
    ...(str(value["version"]) ? { version: str(value["version"]) } : {}),
    ...(str(value["description"]) ? { description: str(value["description"]) } : {}),
    ...(str(value["homepage"]) ? { homepage: str(value["homepage"]) } : {}),
    ...(keywords.length > 0 ? { keywords } : {}),
    ...(execEnv.length > 0 ? { execEnv } : {}),
    ...(licenses.length > 0 ? { licenses } : {}),
    ...(value["clear-env"] === true ? { clearEnv: true } : {}),
    ...(value["optional"] === true ? { optional: true } : {}),
  };
}

function parseObject(text: string, where: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(where, "not valid JSON", error);
  }
  if (!isObject(value)) throw invalid(where, "not a JSON object");
  return value;
}

// The ids and versions of an included image end up in the package's label, where a builder and
// the lifecycle turn them into /cnb/buildpacks/<id>/<version>/ paths: an image may not smuggle in `..`.
function checkReference(where: string, id: string, version: string | undefined, what: string): void {
  const [problem] = checkModuleReference("buildpack", id, version);
  if (problem !== undefined) throw invalid(where, `${what}: ${problem.reason}`, undefined, problem.hint);
}

function invalid(where: string, why: string, cause?: unknown, hint?: string): PolypackError {
  return new PolypackError("LABEL_INVALID", `${where}: ${why}`, { cause, ...(hint ? { hint } : {}) });
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function arrayOfStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
