import { canonical } from "../../buildpack/dependencies-rewrite.js";
import { isTable, parseTomlDocument, type TomlTable, type TomlValue } from "../../buildpack/toml-document.js";
import { TomlLocator } from "../../buildpack/toml-locate.js";
import { PolypackError } from "../../errors/index.js";

// buildpack.toml is edited as text, line by line: an entry is added by copying the lines of an
// existing one and replacing the lines of the keys that change, or by writing new lines in the
// file's indentation; an entry is removed with the comment block directly above it. Everything
// else stays byte for byte, and every edit is read back and compared with what was meant.

/** The rows of one `[[metadata.dependencies]]` entry in the text. */
export interface EntryBlock {
  index: number;
  /** The row of its comment block (or of its header when it has none). */
  start: number;
  header: number;
  /** The last row that is not blank, sub-tables included. */
  last: number;
}

/** A buildpack.toml split into rows, with the position of every dependency entry. */
export class DependencyText {
  readonly rows: string[];
  readonly blocks: EntryBlock[];
  /** `\r` when the file ends its lines with CRLF, else empty: added rows follow the file. */
  readonly carriage: string;
  readonly document: TomlTable;
  private readonly locator: TomlLocator;

  /**
   * Locates every entry; throws DEPENDENCY_EDIT_UNSUPPORTED when the dependencies are not all written
   * as `[[metadata.dependencies]]` tables (an inline array cannot be edited line by line).
   */
  constructor(
    readonly text: string,
    readonly file: string,
  ) {
    this.document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID", { exactNumbers: true });
    this.rows = text.split("\n");
    this.carriage = text.includes("\r\n") ? "\r" : "";
    this.locator = new TomlLocator(text);
    const metadata = this.document["metadata"];
    const count =
      isTable(metadata) && Array.isArray(metadata["dependencies"]) ? metadata["dependencies"].length : 0;
    const headers = this.locator.headers;
    this.blocks = [];
    for (let index = 0; index < count; index++) {
      const at = headers.findIndex((h) => h.array && h.path.length === 3 && inEntry(h.path, index));
      if (at < 0) {
        throw new PolypackError(
          "DEPENDENCY_EDIT_UNSUPPORTED",
          `${file}: [metadata] dependencies are not written as [[metadata.dependencies]] tables, so they cannot be edited in place`,
        );
      }
      const header = headers[at]!.row;
      const next = headers.slice(at + 1).find((h) => !inEntry(h.path, index));
      let end = next === undefined ? this.rows.length : this.locator.commentStart(next.row);
      while (end > header + 1 && (this.rows[end - 1] ?? "").trim() === "") end--;
      this.blocks.push({ index, start: this.locator.commentStart(header), header, last: end - 1 });
    }
  }

  /** The entry's table as parsed (exact numbers). */
  entry(index: number): TomlTable {
    const metadata = this.document["metadata"] as TomlTable;
    return (metadata["dependencies"] as TomlTable[])[index] as TomlTable;
  }

  /**
   * The lines of a new entry made from entry `index`: its header, keys and sub-tables as written
   * (not its comments), with each key in `changes` set to its value (its line, or lines, replaced;
   * added after the last key when it had none) or removed when the value is undefined.
   */
  copyEntry(index: number, changes: ReadonlyMap<string, TomlValue | undefined>): string[] {
    const block = this.blocks[index]!;
    const own = (row: number): string => stripCarriage(this.rows[row] ?? "");
    const keyIndent = this.keyIndent(block);
    const replaced = new Map<number, string | undefined>();
    const skipped = new Set<number>();
    const missing: string[] = [];
    for (const [key, value] of changes) {
      const lines = this.locator.keyLines(["metadata", "dependencies", index, key]);
      if (lines === undefined) {
        if (value !== undefined) missing.push(`${keyIndent}${bareKey(key)} = ${renderValue(value)}`);
        continue;
      }
      const first = lines.first - 1;
      const indent = /^\s*/.exec(own(first))?.[0] ?? "";
      replaced.set(
        first,
        value === undefined ? undefined : `${indent}${bareKey(key)} = ${renderValue(value)}`,
      );
      for (let row = first + 1; row < lines.last; row++) skipped.add(row);
    }
    // New keys go after the entry's own last key, before any sub-table such as its licenses.
    const subTable = this.locator.headers.find(
      (h) => h.row > block.header && h.row <= block.last && h.path.length > 3 && inEntry(h.path, index),
    );
    let lastKey = block.header;
    for (let row = block.header + 1; row <= (subTable ? subTable.row - 1 : block.last); row++) {
      if (own(row).trim() !== "" && !own(row).trimStart().startsWith("#")) lastKey = row;
    }
    const out: string[] = [];
    for (let row = block.header; row <= block.last; row++) {
      if (skipped.has(row)) continue;
      if (replaced.has(row)) {
        const line = replaced.get(row);
        if (line !== undefined) out.push(line);
      } else out.push(own(row));
      if (row === lastKey) out.push(...missing);
    }
    return out;
  }

  /** The lines of a new entry written from scratch, in the indentation the file's entries use. */
  freshEntry(entry: TomlTable): string[] {
    const block = this.blocks[this.blocks.length - 1];
    const headerIndent = block === undefined ? "" : (/^\s*/.exec(this.rows[block.header] ?? "")?.[0] ?? "");
    const keyIndent = block === undefined ? "  " : this.keyIndent(block);
    return [
      `${headerIndent}[[metadata.dependencies]]`,
      ...Object.entries(entry).map(([key, value]) => `${keyIndent}${bareKey(key)} = ${renderValue(value)}`),
    ];
  }

  /**
   * The text with the entries in `remove` taken out (with their comment blocks) and each insertion's
   * lines put after the entry `after` (separated by a blank line), before the entry `before`, or at
   * the end of the file.
   */
  edit(remove: ReadonlySet<number>, insertions: readonly Insertion[]): string {
    const drop = new Set<number>();
    for (const index of remove) {
      const block = this.blocks[index]!;
      // The blank rows after a dropped entry go with it, so no double gap is left.
      let end = block.last + 1;
      while (end < this.rows.length && stripCarriage(this.rows[end] ?? "").trim() === "") end++;
      for (let row = block.start; row < end; row++) drop.add(row);
    }
    const afterRow = new Map<number, string[]>();
    const beforeRow = new Map<number, string[]>();
    const atEnd: string[] = [];
    for (const insertion of insertions) {
      const lines = insertion.lines.map((line) => `${line}${this.carriage}`);
      const gap = this.carriage;
      if (insertion.after !== undefined) {
        const row = this.blocks[insertion.after]!.last;
        // After an entry being removed (its blank rows with it) the gap goes below instead.
        const added = remove.has(insertion.after) ? [...lines, gap] : [gap, ...lines];
        afterRow.set(row, [...(afterRow.get(row) ?? []), ...added]);
      } else if (insertion.before !== undefined) {
        const row = this.blocks[insertion.before]!.start;
        beforeRow.set(row, [...(beforeRow.get(row) ?? []), ...lines, gap]);
      } else atEnd.push(gap, ...lines);
    }
    const out: string[] = [];
    this.rows.forEach((line, row) => {
      out.push(...(beforeRow.get(row) ?? []));
      if (!drop.has(row)) out.push(line);
      out.push(...(afterRow.get(row) ?? []));
    });
    if (atEnd.length > 0) {
      // The file's final newline stays last.
      const trailing = out.length > 0 && out[out.length - 1] === "" ? out.pop() : undefined;
      while (out.length > 0 && stripCarriage(out[out.length - 1] ?? "").trim() === "") out.pop();
      out.push(...atEnd);
      if (trailing !== undefined) out.push(trailing);
    }
    return out.join("\n");
  }

  private keyIndent(block: EntryBlock): string {
    for (let row = block.header + 1; row <= block.last; row++) {
      const line = stripCarriage(this.rows[row] ?? "");
      if (line.trim() !== "" && !line.trimStart().startsWith("#")) return /^\s*/.exec(line)?.[0] ?? "";
    }
    return `${/^\s*/.exec(this.rows[block.header] ?? "")?.[0] ?? ""}  `;
  }
}

/** Lines to add: after an entry, before one, or (neither given) at the end of the file. */
export interface Insertion {
  lines: string[];
  after?: number;
  before?: number;
}

/**
 * Checks an edit by reading it back: outside `[[metadata.dependencies]]` the document must be the
 * same, and its entries must be the old ones without `removed`, plus `added`, in any order.
 * Throws DEPENDENCY_EDIT_UNSUPPORTED otherwise, leaving the file unwritten.
 */
export function checkEdit(
  before: DependencyText,
  edited: string,
  removed: ReadonlySet<number>,
  added: readonly TomlTable[],
): void {
  const fail = (why: string): never => {
    throw new PolypackError(
      "DEPENDENCY_EDIT_UNSUPPORTED",
      `${before.file}: the edited text did not read back as intended (${why}); the file was not changed`,
    );
  };
  let after: TomlTable;
  try {
    after = parseTomlDocument(edited, before.file, "BUILDPACK_TOML_INVALID", { exactNumbers: true });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const split = (document: TomlTable): { rest: string; entries: string[] } => {
    const metadata = isTable(document["metadata"]) ? { ...document["metadata"] } : undefined;
    const entries = Array.isArray(metadata?.["dependencies"]) ? metadata["dependencies"] : [];
    if (metadata !== undefined) delete metadata["dependencies"];
    const rest = { ...document, ...(metadata === undefined ? {} : { metadata }) };
    return { rest: canonical(rest), entries: entries.map(canonical).sort() };
  };
  const old = split(before.document);
  const now = split(after);
  if (old.rest !== now.rest) fail("keys outside [[metadata.dependencies]] changed");
  const kept = (
    (isTable(before.document["metadata"]) ? before.document["metadata"]["dependencies"] : []) as TomlValue[]
  ).filter((_, index) => !removed.has(index));
  const expected = [...kept, ...added].map(canonical).sort();
  if (expected.join("\n") !== now.entries.join("\n"))
    fail("the dependency entries differ from the ones meant");
}

/** Parses the lines of one new entry on their own: the table they stand for. */
export function parseEntryLines(lines: readonly string[], file: string): TomlTable {
  const document = parseTomlDocument(`${lines.join("\n")}\n`, file, "DEPENDENCY_EDIT_UNSUPPORTED", {
    exactNumbers: true,
  });
  const entries = (document["metadata"] as TomlTable | undefined)?.["dependencies"];
  if (!Array.isArray(entries) || entries.length !== 1 || !isTable(entries[0])) {
    throw new PolypackError(
      "DEPENDENCY_EDIT_UNSUPPORTED",
      `${file}: a new entry did not read back as one table`,
    );
  }
  return entries[0];
}

/** A TOML value written on one line: basic strings, inline arrays and inline tables. */
export function renderValue(value: TomlValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isInteger(value) ? `${value}.0` : String(value);
  if (typeof value === "boolean") return String(value);
  // Whole seconds are written without the milliseconds JavaScript adds.
  if (value instanceof Date) return value.toISOString().replace(/\.000(?=Z$|[+-]\d\d:\d\d$)/, "");
  if (Array.isArray(value)) return `[${value.map(renderValue).join(", ")}]`;
  const entries = Object.entries(value).map(([key, item]) => `${bareKey(key)} = ${renderValue(item)}`);
  return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
}

function bareKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

function inEntry(path: readonly (string | number)[], index: number): boolean {
  return path.length >= 3 && path[0] === "metadata" && path[1] === "dependencies" && path[2] === index;
}

function stripCarriage(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
