import type { Platform } from "../oci/platform.js";
import type { Dependency } from "./dependencies.js";
import type { TomlTable } from "./toml-document.js";

/** Whether a descriptor is a buildpack.toml or an extension.toml. */
export type ModuleKind = "buildpack" | "extension";

/** One `[[buildpack.licenses]]` entry. */
export interface License {
  type?: string;
  uri?: string;
}

/** The `[buildpack]` (or `[extension]`) table. */
export interface BuildpackInfo {
  id: string;
  version: string;
  name?: string;
  homepage?: string;
  description?: string;
  keywords: string[];
  licenses: License[];
  /** `clear-env`: the buildpack wants a clean environment. */
  clearEnv: boolean;
  /** `sbom-formats`: media types of the SBOMs it writes. */
  sbomFormats: string[];
}

/** One `[[stacks]]` entry (deprecated since Buildpack API 0.10). */
export interface Stack {
  id: string;
  mixins: string[];
}

/** A distribution in a target: /etc/os-release `ID` and `VERSION_ID`; empty means any. */
export interface Distro {
  name: string;
  version: string;
}

/**
 * A target as a value: the normalised platform plus its distros. Empty platform fields and an empty
 * distro list match anything. `platform.osVersion` is set when the target names one distro version.
 */
export interface Target {
  platform: Platform;
  distros: readonly Distro[];
  /** The arch and variant as written, when normalising changed them (`arm` → `arm/v7`, `arm64/v8` → `arm64`). */
  written?: { architecture: string; variant: string };
}

/** One `[[order.group]]` entry of a composite buildpack. */
export interface GroupEntry {
  id: string;
  version?: string;
  optional: boolean;
  /**
   * The other `dist.ModuleInfo` keys pack reads from a group entry (`exec-env`, `name`, ...), kept
   * only to be written into the layers label as pack writes them.
   */
  info?: GroupEntryInfo;
}

/** The `dist.ModuleInfo` fields of a group entry besides id and version. */
export interface GroupEntryInfo {
  name?: string;
  description?: string;
  homepage?: string;
  keywords?: string[];
  execEnv?: string[];
  licenses?: License[];
  clearEnv?: boolean;
}

/** One `[[order]]` entry. */
export interface OrderEntry {
  group: GroupEntry[];
}

/** One `[[metadata.dependency-constraints]]` entry (used by dependency update tooling). */
export interface DependencyConstraint {
  id: string;
  constraint: string;
  patches?: number;
}

/** The parts of `[metadata]` polypack understands; `table` keeps the whole table as written. */
export interface BuildpackMetadata {
  includeFiles: string[];
  prePackage?: string;
  /** `[metadata.default-versions]`: dependency id to version constraint. */
  defaultVersions: Record<string, string>;
  dependencyConstraints: DependencyConstraint[];
  dependencies: Dependency[];
  table: TomlTable;
}

/** A parsed and validated buildpack.toml or extension.toml. */
export interface BuildpackDescriptor {
  kind: ModuleKind;
  /** The file name used in messages. */
  file: string;
  /** The Buildpack API version, for example `0.10`. */
  api: string;
  info: BuildpackInfo;
  stacks: Stack[];
  targets: Target[];
  order: OrderEntry[];
  metadata: BuildpackMetadata;
  /** The whole parsed document, unknown keys included. */
  document: TomlTable;
  /** The source text, for locating lines and for rewriting. */
  source: string;
  /** What pack accepts but a user should hear about (a deprecated API, unknown keys). */
  warnings?: string[];
}
