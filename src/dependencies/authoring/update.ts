import { parseConstraint, type VersionConstraint } from "../../buildpack/constraint.js";
import { parseChecksum, parseDependencies, type Dependency } from "../../buildpack/dependencies.js";
import { readDependencyPlatform } from "../../buildpack/dependency-platform.js";
import { isTable, type TomlTable, type TomlValue } from "../../buildpack/toml-document.js";
import { TomlFields } from "../../buildpack/toml-fields.js";
import { TomlDate } from "smol-toml";
import { PolypackError } from "../../errors/index.js";
import { placeFor } from "./add.js";
import { compareVersions } from "./new-entry.js";
import { checkEdit, DependencyText, parseEntryLines, type Insertion } from "./toml-edit.js";

/** One dependency of a metadata.json, as the TOML table it becomes, with its derived platform. */
export interface MetadataEntry {
  /** Position in the metadata.json array, 0-based, for messages. */
  index: number;
  table: TomlTable;
  id: string;
  version: string;
  os: string;
  architecture: string;
  checksum: string;
}

/** A version kept or dropped, for the report. */
export interface UpdateChange {
  id: string;
  version: string;
  /** `linux/arm64`, or `*` parts for entries that name none. */
  platform: string;
}

/** What `updateEntries` did. */
export interface UpdateOutcome {
  text: string;
  added: UpdateChange[];
  /** The metadata.json entries behind `added`, in the same order (for `verifyUpdate`). */
  addedEntries: MetadataEntry[];
  removed: UpdateChange[];
  /** Messages about entries left out: outside every constraint, or present with another checksum. */
  skipped: string[];
}

/**
 * Reads Paketo's metadata.json: a JSON array of dependency objects whose keys are buildpack.toml's
 * (`id`, `version`, `uri`, `checksum` or `sha256`, `os`, `arch`, `cpe`, `purl`, `licenses`, ...), as
 * `jam update-dependencies --metadata-file` reads it. Integers stay integers, `deprecation_date`
 * becomes a TOML date, nulls are left out.
 */
export function parseMetadataJson(text: string, file: string): MetadataEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(file, `is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(parsed)) throw invalid(file, "is not a JSON array of dependencies");
  return parsed.map((item, index) => {
    const where = `[${index}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw invalid(file, `${where} is not an object`);
    const table = toToml(item as Record<string, unknown>) as TomlTable;
    const text = (key: string): string | undefined =>
      typeof table[key] === "string" ? table[key] : undefined;
    const id = text("id");
    const version = text("version");
    if (!id || !version || !text("uri")) throw invalid(file, `${where} lacks an id, version or uri`);
    const checksumText = text("checksum") ?? text("sha256");
    const checksum = checksumText === undefined ? undefined : parseChecksum(checksumText);
    if (checksum === undefined)
      throw invalid(file, `${where} (${id} ${version}) has no valid checksum or sha256`);
    const fields = new TomlFields(file, "", "DEPENDENCY_METADATA_INVALID");
    const platform = readDependencyPlatform(fields, table, [index]);
    const [problem] = fields.problems;
    if (problem !== undefined) throw invalid(file, `${where} (${id} ${version}): ${problem.message}`);
    return {
      index,
      table,
      id,
      version,
      os: platform.os,
      architecture: platform.architecture,
      checksum: checksum.toString(),
    };
  });
}

/**
 * Merges metadata.json entries into buildpack.toml text as jam does, with (version, os, arch) as
 * distinct entries: for each `[[metadata.dependency-constraints]]`, the newest `patches` versions
 * among the file's entries and the new ones matching it are kept, every platform of a kept version
 * included; entries of older versions matching it are removed. A new entry for an id without
 * constraints is added; one matching none of its id's constraints is left out (and reported).
 * Entries of the file that match no constraint stay. The edit is checked by reading it back.
 */
export function updateEntries(text: string, file: string, metadata: readonly MetadataEntry[]): UpdateOutcome {
  const document = new DependencyText(text, file);
  const existing = parseDependencies(text, { file });
  const constraints = readConstraints(document.document, file);
  const outcome: UpdateOutcome = { text, added: [], addedEntries: [], removed: [], skipped: [] };
  const fresh: MetadataEntry[] = [];
  for (const entry of metadata) {
    const same = existing.find(
      (d) =>
        d.id === entry.id &&
        d.version === entry.version &&
        d.os === entry.os &&
        d.architecture === entry.architecture,
    );
    if (same !== undefined) {
      if (same.checksum?.toString() !== entry.checksum) {
        outcome.skipped.push(
          `${describe(entry)} is already in ${file} with checksum ${same.checksum?.toString() ?? "(none)"}, not ${entry.checksum}; the file's entry is kept`,
        );
      }
      continue;
    }
    if (
      fresh.some(
        (f) =>
          f.id === entry.id &&
          f.version === entry.version &&
          f.os === entry.os &&
          f.architecture === entry.architecture,
      )
    )
      continue;
    const own = constraints.filter((c) => c.id === entry.id);
    if (own.length > 0 && !own.some((c) => c.range.satisfiedBy(entry.version))) {
      outcome.skipped.push(`${describe(entry)} matches none of the dependency-constraints for ${entry.id}`);
      continue;
    }
    fresh.push(entry);
  }
  // Which versions each constraint keeps, among old and new entries together.
  const keep = new Set<string>();
  const judged = new Set<string>();
  for (const constraint of constraints) {
    const versions = [
      ...new Set(
        [...existing.map((d) => ({ id: d.id, version: d.version })), ...fresh]
          .filter((d) => d.id === constraint.id && constraint.range.satisfiedBy(d.version))
          .map((d) => d.version),
      ),
    ].sort(compareVersions);
    const kept = constraint.patches > 0 ? versions.slice(-constraint.patches) : versions;
    for (const version of versions) judged.add(`${constraint.id}@${version}`);
    for (const version of kept) keep.add(`${constraint.id}@${version}`);
  }
  const stays = (id: string, version: string): boolean =>
    !judged.has(`${id}@${version}`) || keep.has(`${id}@${version}`);
  const removed = new Set(existing.filter((d) => !stays(d.id, d.version)).map((d) => d.index));
  const added = fresh.filter((entry) => stays(entry.id, entry.version));
  for (const entry of fresh.filter((e) => !stays(e.id, e.version))) {
    outcome.skipped.push(`${describe(entry)} is older than the versions the dependency-constraints keep`);
  }
  // New entries in version order, so that several after one entry come out ascending.
  added.sort((a, b) => compareVersions(a.version, b.version));
  const insertions: Insertion[] = added.map((entry) => ({
    lines: document.freshEntry(
      orderedLike(
        entry.table,
        existing.find((d) => d.id === entry.id),
      ),
    ),
    ...placeFor(existing, entry),
  }));
  const tables = insertions.map((insertion) => parseEntryLines(insertion.lines, file));
  const edited = document.edit(removed, insertions);
  checkEdit(document, edited, removed, tables);
  outcome.text = edited;
  outcome.added = added.map((e) => ({ id: e.id, version: e.version, platform: platformOf(e) }));
  outcome.addedEntries = added;
  outcome.removed = existing
    .filter((d) => removed.has(d.index))
    .map((d) => ({ id: d.id, version: d.version, platform: platformOf(d) }));
  return outcome;
}

interface Constraint {
  id: string;
  range: VersionConstraint;
  /** 0: every version. */
  patches: number;
}

function readConstraints(document: TomlTable, file: string): Constraint[] {
  const metadata = document["metadata"];
  const list = isTable(metadata) ? metadata["dependency-constraints"] : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(isTable).map((table, i) => {
    const { id, constraint, patches } = table;
    if (typeof id !== "string" || typeof constraint !== "string") {
      throw new PolypackError(
        "BUILDPACK_TOML_INVALID",
        `${file}: [[metadata.dependency-constraints]][${i}] needs a string id and constraint`,
      );
    }
    const count = typeof patches === "bigint" || typeof patches === "number" ? Number(patches) : 0;
    return { id, range: parseConstraint(constraint), patches: count };
  });
}

/** Keys in alphabetical order when the file's entries of that id are written so (Paketo's are). */
function orderedLike(table: TomlTable, sample: Dependency | undefined): TomlTable {
  const keys = Object.keys(sample?.raw ?? {});
  const sorted = keys.length > 1 && keys.every((key, i) => i === 0 || (keys[i - 1] ?? "") <= key);
  if (!sorted) return table;
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function toToml(value: unknown, key?: string): TomlValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") {
    if (key === "deprecation_date" && /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value))) {
      return new TomlDate(value);
    }
    return value;
  }
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((item) => toToml(item)).filter((item) => item !== undefined);
  if (typeof value === "object") {
    const out: TomlTable = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const converted = toToml(v, k);
      if (converted !== undefined) out[k] = converted;
    }
    return out;
  }
  return undefined;
}

function describe(entry: MetadataEntry): string {
  return `${entry.id} ${entry.version} for ${platformOf(entry)}`;
}

function platformOf(entry: { os: string; architecture: string }): string {
  return `${entry.os || "*"}/${entry.architecture || "*"}`;
}

function invalid(file: string, detail: string): PolypackError {
  return new PolypackError("DEPENDENCY_METADATA_INVALID", `${file} ${detail}`);
}
