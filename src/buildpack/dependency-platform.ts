import { Platform } from "../oci/platform.js";
import type { Distro } from "./descriptor-types.js";
import { isTable, type KeyPath, type TomlTable } from "./toml-document.js";
import type { TomlFields } from "./toml-fields.js";

/**
 * Which key named a dependency's architecture: packit's `arch`, the original multi-arch RFC's
 * `architecture`, libpak's `arch=` qualifier in `purl`/`purls`, or nothing (architecture-independent).
 */
export type ArchitectureSource = "arch" | "architecture" | "purl" | "none";

/** The platform a dependency is for; empty fields and an empty distro list mean any. */
export interface DependencyPlatform {
  os: string;
  architecture: string;
  variant: string;
  distros: Distro[];
  architectureSource: ArchitectureSource;
}

/** The `arch` qualifier of a package URL (`pkg:generic/jdk@11?arch=arm64`), or undefined. */
export function purlArchitecture(purl: string): string | undefined {
  const query = purl.indexOf("?");
  if (query < 0) return undefined;
  const end = purl.indexOf("#", query);
  const params = new URLSearchParams(purl.slice(query + 1, end < 0 ? undefined : end));
  const arch = params.get("arch");
  return arch === null || arch === "" ? undefined : arch;
}

/**
 * Reads the platform of one `[[metadata.dependencies]]` entry at `path`, normalising names
 * (x64, x86_64 → amd64; aarch64 → arm64). When several keys name an architecture they must agree
 * after normalisation; `arch` is read first, then `architecture`, then the purls.
 */
export function readDependencyPlatform(
  fields: TomlFields,
  entry: TomlTable,
  path: KeyPath,
): DependencyPlatform {
  const named: { source: ArchitectureSource; key: KeyPath; value: string }[] = [];
  for (const key of ["arch", "architecture"] as const) {
    const value = fields.string(entry, key, path);
    if (value !== undefined && value !== "") named.push({ source: key, key: [...path, key], value });
  }
  const purls: { key: KeyPath; value: string }[] = [];
  const purl = fields.string(entry, "purl", path);
  if (purl !== undefined) purls.push({ key: [...path, "purl"], value: purl });
  fields
    .strings(entry, "purls", path)
    .forEach((value, i) => purls.push({ key: [...path, "purls", i], value }));
  for (const { key, value } of purls) {
    const arch = purlArchitecture(value);
    if (arch !== undefined) named.push({ source: "purl", key, value: arch });
  }

  let architecture = "";
  let variant = fields.string(entry, "variant", path) ?? "";
  let source: ArchitectureSource = "none";
  for (const { source: from, key, value } of named) {
    const platform = new Platform({ os: "linux", architecture: value });
    if (!knownArchitecture(platform.architecture)) {
      fields.report("DEPENDENCY_INVALID", key, `unknown architecture ${JSON.stringify(value)}`);
    } else if (architecture === "") {
      architecture = platform.architecture;
      variant = variant || platform.variant;
      source = from;
    } else if (platform.architecture !== architecture) {
      fields.report(
        "DEPENDENCY_INVALID",
        key,
        `architecture ${JSON.stringify(value)} contradicts ${JSON.stringify(architecture)} given by "${source}"`,
      );
    }
  }

  const os = new Platform({ os: fields.string(entry, "os", path) ?? "" }).os;
  return { os, architecture, variant, distros: readDistros(fields, entry, path), architectureSource: source };
}

function readDistros(fields: TomlFields, entry: TomlTable, path: KeyPath): Distro[] {
  const value = entry["distros"];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable)) {
    fields.report("DEPENDENCY_INVALID", [...path, "distros"], "expected an array of {name, version} tables");
    return [];
  }
  return value.map((distro, i) => ({
    name: fields.string(distro, "name", [...path, "distros", i]) ?? "",
    version: fields.string(distro, "version", [...path, "distros", i]) ?? "",
  }));
}

function knownArchitecture(architecture: string): boolean {
  try {
    Platform.parse(`linux/${architecture}`);
    return true;
  } catch {
    return false;
  }
}
