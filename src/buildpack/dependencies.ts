import { Digest, type DigestAlgorithm } from "../oci/digest.js";
import type { Distro } from "./descriptor-types.js";
import { readDependencyPlatform, type ArchitectureSource } from "./dependency-platform.js";
import { isTable, parseTomlDocument, type KeyPath, type TomlTable } from "./toml-document.js";
import { TomlFields } from "./toml-fields.js";

/**
 * One `[[metadata.dependencies]]` entry: `raw` is the entry exactly as parsed (every key, known or
 * not), the other fields are derived from it.
 */
export interface Dependency {
  /** Position in `[[metadata.dependencies]]`, 0-based. */
  index: number;
  id: string;
  version: string;
  name?: string;
  uri?: string;
  /** Stack ids; `*` means any; empty means the entry names none. */
  stacks: string[];
  /** Normalised operating system; empty means any. */
  os: string;
  /** Normalised GOARCH architecture; empty means architecture-independent. */
  architecture: string;
  /** CPU variant; empty means any. */
  variant: string;
  distros: Distro[];
  /** Which key gave the architecture, for reports. */
  architectureSource: ArchitectureSource;
  /** The expected digest of `uri`, from `sha256` (preferred, as packit does) or `checksum`. */
  checksum?: Digest;
  /** Which key gave `checksum`. */
  checksumKey?: "sha256" | "checksum";
  /** `deprecation_date`, a TOML datetime or a string. */
  deprecationDate?: Date;
  raw: TomlTable;
}

/** Reads `[[metadata.dependencies]]` from the `[metadata]` table found at `path`. */
export function readDependencies(
  fields: TomlFields,
  metadata: TomlTable,
  path: KeyPath = ["metadata"],
): Dependency[] {
  const out: Dependency[] = [];
  fields.tables(metadata, "dependencies", path).forEach((raw, index) => {
    const at = [...path, "dependencies", index];
    const id = fields.string(raw, "id", at);
    const version = fields.string(raw, "version", at);
    if (!id) fields.report("DEPENDENCY_INVALID", [...at, "id"], "missing the dependency id");
    if (!version) fields.report("DEPENDENCY_INVALID", [...at, "version"], "missing the dependency version");
    const platform = readDependencyPlatform(fields, raw, at);
    const checksum = readChecksum(fields, raw, at);
    const deprecationDate = readDate(fields, raw, "deprecation_date", at);
    out.push({
      index,
      id: id ?? "",
      version: version ?? "",
      name: fields.string(raw, "name", at),
      uri: fields.string(raw, "uri", at),
      stacks: fields.strings(raw, "stacks", at),
      ...platform,
      ...checksum,
      deprecationDate,
      raw,
    });
  });
  return out;
}

/**
 * Reads only `[[metadata.dependencies]]` from buildpack.toml text, without the descriptor's other
 * rules (a source file without a version is fine here); throws the first problem.
 */
export function parseDependencies(text: string, options: { file?: string } = {}): Dependency[] {
  const file = options.file ?? "buildpack.toml";
  const document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID");
  const fields = new TomlFields(file, text, "BUILDPACK_TOML_INVALID");
  const metadata = document["metadata"];
  const dependencies = isTable(metadata) ? readDependencies(fields, metadata) : [];
  const [first] = fields.problems;
  if (first !== undefined) throw first;
  return dependencies;
}

/**
 * Parses a dependency checksum: `sha256:<hex>`, `sha512:<hex>`, or bare hex meaning sha256.
 * Returns undefined when it is none of these.
 */
export function parseChecksum(value: string): Digest | undefined {
  const match = /^(?:(sha256|sha512):)?([0-9a-fA-F]+)$/.exec(value.trim());
  if (match === null) return undefined;
  const algorithm = (match[1] ?? "sha256") as DigestAlgorithm;
  const text = `${algorithm}:${(match[2] ?? "").toLowerCase()}`;
  return Digest.isValid(text) ? Digest.parse(text) : undefined;
}

function readChecksum(
  fields: TomlFields,
  raw: TomlTable,
  at: KeyPath,
): { checksum?: Digest; checksumKey?: "sha256" | "checksum" } {
  // packit prefers the legacy `sha256` key when both are present.
  for (const key of ["sha256", "checksum"] as const) {
    const value = fields.string(raw, key, at);
    if (value === undefined || value === "") continue;
    const digest = key === "sha256" ? parseChecksum(value.replace(/^sha256:/, "")) : parseChecksum(value);
    if (digest === undefined) {
      fields.report(
        "DEPENDENCY_INVALID",
        [...at, key],
        `invalid checksum ${JSON.stringify(value)}`,
        key === "sha256"
          ? "write 64 hex digits"
          : 'write "sha256:<64 hex digits>" or "sha512:<128 hex digits>"',
      );
      return {};
    }
    return { checksum: digest, checksumKey: key };
  }
  return {};
}

function readDate(fields: TomlFields, raw: TomlTable, key: string, at: KeyPath): Date | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    fields.report("DEPENDENCY_INVALID", [...at, key], `expected a date such as 2026-04-30T00:00:00Z`);
    return undefined;
  }
  return date;
}
