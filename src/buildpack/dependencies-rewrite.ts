import { parse, stringify } from "smol-toml";
import type { Platform } from "../oci/platform.js";
import type { Digest } from "../oci/digest.js";
import { parseDependencies, type Dependency } from "./dependencies.js";
import { dependencyMatchesTarget } from "./dependencies-filter.js";
import type { Target } from "./descriptor-types.js";
import { isTable, parseTomlDocument, type TomlTable } from "./toml-document.js";
import { TomlLocator } from "./toml-locate.js";

/** Options for `rewriteBuildpackToml`. */
export interface RewriteOptions {
  /** The name used in messages; defaults to `buildpack.toml`. */
  file?: string;
  /** Keep only the dependencies for this target; all of them when absent. */
  target?: Target | Platform;
  /** A new `uri` for a kept dependency (see `offlineDependencyUri`); undefined keeps it. */
  uri?: (dependency: Dependency) => string | undefined;
}

/** Where an offline package stores a dependency, the path jam uses: `file:///dependencies/<hex>`. */
export function offlineDependencyUri(checksum: Digest | string): string {
  return `file:///dependencies/${typeof checksum === "string" ? checksum : checksum.hex}`;
}

/**
 * The buildpack.toml text for one target: `[[metadata.dependencies]]` keeps only the entries for
 * `target`, with `uri` rewritten when asked. Everything else stays exactly as written: the text is
 * edited in place (dropped entries' lines removed, `uri` lines replaced), so keys, values, dates,
 * comments and layout are kept byte for byte. Dependencies written as an inline array cannot be
 * edited that way; then the document is written out again from its parsed values, dates as dates,
 * integers as integers, floats as floats, with only the leading comment block kept.
 */
export function rewriteBuildpackToml(text: string, options: RewriteOptions = {}): string {
  const file = options.file ?? "buildpack.toml";
  const dependencies = parseDependencies(text, { file });
  // A second parse with exact numbers, so stringify writes `1.0` back as a float and 1 as an integer.
  const document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID", { exactNumbers: true });
  const metadata = document["metadata"];
  if (!isTable(metadata) || !Array.isArray(metadata["dependencies"])) return text;
  const entries = metadata["dependencies"];
  const { target, uri } = options;
  const kept = new Map<number, string | undefined>();
  for (const dependency of dependencies) {
    if (target === undefined || dependencyMatchesTarget(dependency, target)) {
      kept.set(dependency.index, uri?.(dependency));
    }
  }
  metadata["dependencies"] = [...kept]
    .map(([index, replacement]) => {
      const entry = entries[index];
      // Assigning to a copy keeps `uri` where it was; an entry without one gets it last.
      return isTable(entry) && replacement !== undefined ? { ...entry, uri: replacement } : entry;
    })
    .filter((entry) => entry !== undefined);
  // A target left with no dependency gets none: no empty array either.
  if (metadata["dependencies"].length === 0) delete metadata["dependencies"];
  const edited = editInPlace(text, entries.length, kept);
  // The edit is checked: it must parse to exactly the document the values say.
  if (edited !== undefined && sameDocument(edited, document)) return edited;
  return `${leadingComments(text)}${stringify(document, { numbersAsFloat: true })}`;
}

const DEPENDENCIES: readonly string[] = ["metadata", "dependencies"];

/**
 * Drops the lines of every `[[metadata.dependencies]]` entry not in `kept` (the comment block
 * directly above its header, the header, keys and sub-tables) and replaces the `uri` line of kept entries that get a new one. Undefined when the
 * entries are not all written as `[[metadata.dependencies]]` tables with one-line URIs.
 */
function editInPlace(
  text: string,
  count: number,
  kept: ReadonlyMap<number, string | undefined>,
): string | undefined {
  const locator = new TomlLocator(text);
  const rows = text.split("\n");
  const isEntry = (path: readonly (string | number)[], index: number): boolean =>
    path.length >= 3 && path[0] === DEPENDENCIES[0] && path[1] === DEPENDENCIES[1] && path[2] === index;
  const drop = new Set<number>();
  const replace = new Map<number, string>();
  const insert = new Map<number, string>();
  for (let index = 0; index < count; index++) {
    const at = locator.headers.findIndex(
      (header) => header.array && header.path.length === 3 && isEntry(header.path, index),
    );
    if (at < 0) return undefined;
    const start = locator.headers[at]!.row;
    const next = locator.headers.slice(at + 1).find((header) => !isEntry(header.path, index));
    const end = next?.row ?? rows.length;
    if (!kept.has(index)) {
      // A comment block directly above a header belongs to that table: it goes with a dropped
      // entry, and the block above the header that follows stays with that header.
      const last = next === undefined ? end : locator.commentStart(end);
      for (let row = locator.commentStart(start); row < last; row++) drop.add(row);
      continue;
    }
    const uri = kept.get(index);
    if (uri === undefined) continue;
    const line = `uri = ${JSON.stringify(uri)}`;
    const lines = locator.keyLines([...DEPENDENCIES, index, "uri"]);
    if (lines === undefined) {
      // No uri yet: it goes right after the entry's header.
      const carriage = rows[start]?.endsWith("\r") ? "\r" : "";
      insert.set(start, `${line}${carriage}`);
      continue;
    }
    const row = lines.first - 1;
    if (lines.first !== lines.last || row < start || row >= end) return undefined;
    const indent = /^\s*/.exec(rows[row] ?? "")?.[0] ?? "";
    const carriage = rows[row]?.endsWith("\r") ? "\r" : "";
    replace.set(row, `${indent}${line}${carriage}`);
  }
  const out = rows.flatMap((line, row) => {
    if (drop.has(row)) return [];
    const added = insert.get(row);
    const written = replace.get(row) ?? line;
    return added === undefined ? [written] : [written, added];
  });
  const joined = out.join("\n");
  return text.endsWith("\n") && !joined.endsWith("\n") ? `${joined}\n` : joined;
}

function sameDocument(text: string, expected: TomlTable): boolean {
  try {
    return canonical(parse(text, { integersAsBigInt: true })) === canonical(expected);
  } catch {
    return false;
  }
}

/** A TOML value as text that tells integers, floats and dates apart and ignores key order. */
export function canonical(value: unknown): string {
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (typeof value === "bigint") return `int:${value}`;
  if (typeof value === "number") return `float:${value}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function leadingComments(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trimStart().startsWith("#") && line.trim() !== "") break;
    lines.push(line);
  }
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === "") lines.pop();
  return lines.length > 0 ? `${lines.join("\n")}\n\n` : "";
}
