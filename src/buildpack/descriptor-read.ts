import { readDependencies } from "./dependencies.js";
import type {
  BuildpackDescriptor,
  BuildpackInfo,
  BuildpackMetadata,
  DependencyConstraint,
  GroupEntryInfo,
  ModuleKind,
  OrderEntry,
  Stack,
} from "./descriptor-types.js";
import { readTargets } from "./target-read.js";
import type { KeyPath, TomlTable } from "./toml-document.js";
import type { TomlFields } from "./toml-fields.js";

/**
 * Turns a parsed buildpack.toml or extension.toml into the typed model. Values of the wrong type are
 * reported to `fields` and read as absent; semantic rules are checked by `validateDescriptor`.
 */
export function readDescriptor(
  fields: TomlFields,
  document: TomlTable,
  source: string,
  kind: ModuleKind,
): BuildpackDescriptor {
  const metadataTable = fields.table(document, "metadata", []) ?? {};
  return {
    kind,
    file: fields.file,
    api: fields.string(document, "api", []) ?? "",
    info: readInfo(fields, fields.table(document, kind, []) ?? {}, kind),
    stacks: fields.tables(document, "stacks", []).map((stack, i): Stack => ({
      id: fields.string(stack, "id", ["stacks", i]) ?? "",
      mixins: fields.strings(stack, "mixins", ["stacks", i]),
    })),
    targets: readTargets(fields, document, "BUILDPACK"),
    order: readOrder(fields, document),
    metadata: readMetadata(fields, metadataTable),
    document,
    source,
  };
}

function readInfo(fields: TomlFields, table: TomlTable, kind: ModuleKind): BuildpackInfo {
  const at = [kind];
  return {
    id: fields.string(table, "id", at) ?? "",
    version: fields.string(table, "version", at) ?? "",
    name: fields.string(table, "name", at),
    homepage: fields.string(table, "homepage", at),
    description: fields.string(table, "description", at),
    keywords: fields.strings(table, "keywords", at),
    licenses: fields.tables(table, "licenses", at).map((license, i) => ({
      type: fields.string(license, "type", [kind, "licenses", i]),
      uri: fields.string(license, "uri", [kind, "licenses", i]),
    })),
    clearEnv: fields.boolean(table, "clear-env", at) ?? false,
    sbomFormats: fields.strings(table, "sbom-formats", at),
  };
}

function readOrder(fields: TomlFields, document: TomlTable): OrderEntry[] {
  return fields.tables(document, "order", []).map((order, i) => ({
    group: fields.tables(order, "group", ["order", i]).map((entry, j) => {
      const at = ["order", i, "group", j];
      const id = fields.string(entry, "id", at);
      if (!id) fields.report("BUILDPACK_ORDER_INVALID", at, "missing the id of a group entry");
      const info = readGroupEntryInfo(fields, entry, at);
      return {
        id: id ?? "",
        version: fields.string(entry, "version", at),
        optional: fields.boolean(entry, "optional", at) ?? false,
        ...(Object.keys(info).length > 0 ? { info } : {}),
      };
    }),
  }));
}

// pack decodes a group entry into dist.ModuleRef, which embeds all of dist.ModuleInfo.
function readGroupEntryInfo(fields: TomlFields, entry: TomlTable, at: KeyPath): GroupEntryInfo {
  const info: GroupEntryInfo = {};
  const name = fields.string(entry, "name", at);
  const description = fields.string(entry, "description", at);
  const homepage = fields.string(entry, "homepage", at);
  const keywords = fields.strings(entry, "keywords", at);
  const execEnv = fields.strings(entry, "exec-env", at);
  const licenses = fields.tables(entry, "licenses", at).map((license, i) => ({
    type: fields.string(license, "type", [...at, "licenses", i]),
    uri: fields.string(license, "uri", [...at, "licenses", i]),
  }));
  const clearEnv = fields.boolean(entry, "clear-env", at);
  if (name) info.name = name;
  if (description) info.description = description;
  if (homepage) info.homepage = homepage;
  if (keywords.length > 0) info.keywords = keywords;
  if (execEnv.length > 0) info.execEnv = execEnv;
  if (licenses.length > 0) info.licenses = licenses;
  if (clearEnv) info.clearEnv = clearEnv;
  return info;
}

function readMetadata(fields: TomlFields, table: TomlTable): BuildpackMetadata {
  const at = ["metadata"];
  return {
    includeFiles: fields.strings(table, "include-files", at),
    prePackage: fields.string(table, "pre-package", at),
    defaultVersions: fields.stringMap(table, "default-versions", at),
    dependencyConstraints: fields
      .tables(table, "dependency-constraints", at)
      .map((entry, i): DependencyConstraint => {
        const path = [...at, "dependency-constraints", i];
        const patches = entry["patches"];
        return {
          id: fields.string(entry, "id", path) ?? "",
          constraint: fields.string(entry, "constraint", path) ?? "",
          ...(typeof patches === "number" ? { patches } : {}),
        };
      }),
    dependencies: readDependencies(fields, table, at),
    table,
  };
}
