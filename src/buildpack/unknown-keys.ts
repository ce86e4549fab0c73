import type { ModuleKind } from "./descriptor-types.js";
import { closestWord } from "../util/suggest.js";
import { isTable, type TomlTable, type TomlValue } from "./toml-document.js";

/** A table's known keys: `true` takes any value, a nested schema a table or array of tables. */
interface Schema {
  [key: string]: true | Schema;
}

// The keys of pack's dist.ModuleInfo, which [buildpack], [extension] and order group entries share.
const MODULE_INFO: Schema = {
  id: true,
  name: true,
  version: true,
  description: true,
  homepage: true,
  keywords: true,
  "exec-env": true,
  licenses: { type: true, uri: true },
  "clear-env": true,
};

// The keys pack decodes (dist.BuildpackDescriptor, dist.ExtensionDescriptor), plus what pack skips
// on purpose: `[metadata]` is free-form and `sbom-formats` is in the spec.
const TARGETS: Schema = { os: true, arch: true, variant: true, distros: { name: true, version: true } };
const SCHEMAS: Record<ModuleKind, Schema> = {
  buildpack: {
    api: true,
    buildpack: { ...MODULE_INFO, "sbom-formats": true },
    stacks: { id: true, mixins: true },
    targets: TARGETS,
    order: { group: { ...MODULE_INFO, optional: true } },
    metadata: true,
  },
  extension: {
    api: true,
    extension: { ...MODULE_INFO, "sbom-formats": true },
    targets: TARGETS,
    metadata: true,
  },
};

// The keys of pack's buildpackage.Config, which refuses any other ("unknown configuration element").
const PACKAGE_SCHEMA: Schema = {
  buildpack: { uri: true },
  extension: { uri: true },
  dependencies: { uri: true, image: true },
  platform: { os: true },
  targets: TARGETS,
};

/**
 * The keys of a buildpack.toml or extension.toml that pack does not read, as dotted paths
 * (`buildpack.foo`, `targets.arch-variant`), each once, in document order.
 */
export function unknownDescriptorKeys(document: TomlTable, kind: ModuleKind): string[] {
  const found = new Set<string>();
  visit(document, SCHEMAS[kind], "", found);
  return [...found];
}

/** The keys and tables of a package.toml that pack does not know, as dotted paths, in document order. */
export function unknownPackageKeys(document: TomlTable): string[] {
  const found = new Set<string>();
  visit(document, PACKAGE_SCHEMA, "", found);
  return [...found];
}

function visit(table: TomlTable, schema: Schema, prefix: string, found: Set<string>): void {
  for (const [key, value] of Object.entries(table)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const known = schema[key];
    if (known === undefined) found.add(path);
    else if (known !== true) for (const child of tablesIn(value)) visit(child, known, path, found);
  }
}

function tablesIn(value: TomlValue): TomlTable[] {
  if (isTable(value)) return [value];
  return Array.isArray(value) ? value.filter(isTable) : [];
}

/**
 * The known key a dotted unknown key (as `unknownDescriptorKeys` or `unknownPackageKeys` names it)
 * most likely misspells, in the same table: `targets` for `target`, `targets.arch` for `targets.arhc`.
 */
export function suggestKnownKey(path: string, kind: ModuleKind | "package"): string | undefined {
  const parts = path.split(".");
  let schema: Schema | true | undefined = kind === "package" ? PACKAGE_SCHEMA : SCHEMAS[kind];
  for (const part of parts.slice(0, -1)) schema = schema === true ? undefined : schema?.[part];
  if (schema === true || schema === undefined) return undefined;
  const guess = closestWord(parts.at(-1)!, Object.keys(schema));
  return guess === undefined ? undefined : [...parts.slice(0, -1), guess].join(".");
}

/** An unknown key for a message, with the key it most likely misspells: `target (did you mean targets?)`. */
export function describeUnknownKey(path: string, kind: ModuleKind | "package", quote = ""): string {
  const meant = suggestKnownKey(path, kind);
  return `${quote}${path}${quote}${meant === undefined ? "" : ` (did you mean ${quote}${meant}${quote}?)`}`;
}
