import type { KeyPath } from "./toml-document.js";

/**
 * Finds the source line of a key or table in TOML text, so that semantic errors (which smol-toml
 * cannot know about) can point at a line like syntax errors do. The scan is line based: it knows
 * table headers, array-of-tables headers, dotted keys, quoted keys, comments, multi-line strings and
 * arrays, and the elements of inline arrays of tables; it assumes the text already parsed.
 */
export class TomlLocator {
  private readonly lines = new Map<string, number>();
  private readonly ends = new Map<string, number>();
  /** Every table and array-of-tables header, in order: its resolved path and 0-based row. */
  readonly headers: { path: KeyPath; row: number; array: boolean }[] = [];
  /** The 0-based rows holding only a comment (never a line inside a multi-line value). */
  readonly commentRows = new Set<number>();

  /** Scans `text` once; lookups are then map reads. */
  constructor(text: string) {
    const rows = text.split(/\r?\n/);
    const arrayIndex = new Map<string, number>();
    let table: (string | number)[] = [];
    const resolve = (segments: readonly string[]): (string | number)[] => {
      const out: (string | number)[] = [];
      for (const segment of segments) {
        out.push(segment);
        const index = arrayIndex.get(pathKey(out));
        if (index !== undefined) out.push(index);
      }
      return out;
    };
    for (let row = 0; row < rows.length; row++) {
      const line = rows[row] ?? "";
      const trimmed = line.trimStart();
      if (trimmed.startsWith("#")) this.commentRows.add(row);
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      if (trimmed.startsWith("[[")) {
        const segments = splitDottedKey(trimmed.slice(2, trimmed.indexOf("]]")));
        const parent = resolve(segments.slice(0, -1));
        const array = [...parent, ...segments.slice(-1)];
        const index = (arrayIndex.get(pathKey(array)) ?? -1) + 1;
        arrayIndex.set(pathKey(array), index);
        table = [...array, index];
        this.record(table, row);
        this.headers.push({ path: table, row, array: true });
      } else if (trimmed.startsWith("[")) {
        table = resolve(splitDottedKey(trimmed.slice(1, trimmed.indexOf("]"))));
        this.record(table, row);
        this.headers.push({ path: table, row, array: false });
      } else {
        const equals = findOutsideQuotes(line, "=");
        if (equals < 0) continue;
        const key = [...table, ...splitDottedKey(line.slice(0, equals))];
        this.record(key, row);
        row = this.skipValue(rows, row, equals + 1, key);
        if (!this.ends.has(pathKey(key))) this.ends.set(pathKey(key), row + 1);
      }
    }
  }

  /** The 1-based line of `path`, or of its nearest ancestor found, or undefined. */
  lineOf(path: KeyPath): number | undefined {
    for (let length = path.length; length > 0; length--) {
      const line = this.lines.get(pathKey(path.slice(0, length)));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  /**
   * The first row of the comment block written directly above `row` (no blank line between), or
   * `row` itself when there is none. Such a block describes the header below it and belongs to it.
   */
  commentStart(row: number): number {
    let start = row;
    while (this.commentRows.has(start - 1)) start--;
    return start;
  }

  /** The 1-based first and last line of a key's value exactly at `path`, or undefined. */
  keyLines(path: KeyPath): { first: number; last: number } | undefined {
    const first = this.lines.get(pathKey(path));
    const last = this.ends.get(pathKey(path));
    return first === undefined || last === undefined ? undefined : { first, last };
  }

  private record(path: KeyPath, row: number): void {
    if (!this.lines.has(pathKey(path))) this.lines.set(pathKey(path), row + 1);
  }

  /** Walks past a value that may span lines; returns the row where it ends. */
  private skipValue(rows: readonly string[], row: number, column: number, key: KeyPath): number {
    let depth = 0;
    let quote = "";
    let element = 0;
    for (let r = row; r < rows.length; r++) {
      const text = rows[r] ?? "";
      for (let c = r === row ? column : 0; c < text.length; c++) {
        const rest = text.slice(c);
        if (quote !== "") {
          if (quote.startsWith('"') && text[c] === "\\") c++;
          else if (rest.startsWith(quote)) {
            c += quote.length - 1;
            quote = "";
          }
          continue;
        }
        const ch = text[c];
        if (ch === "#") break;
        if (rest.startsWith('"""') || rest.startsWith("'''")) {
          quote = rest.slice(0, 3);
          c += 2;
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === "[" || ch === "{") {
          if (depth === 1 && ch === "{") this.record([...key, element++], r);
          depth++;
        } else if (ch === "]" || ch === "}") depth--;
      }
      if (quote.length === 1) quote = "";
      if (depth <= 0 && quote === "") return r;
    }
    return rows.length - 1;
  }
}

/** Splits `a."b.c".d` into `["a", "b.c", "d"]`. */
export function splitDottedKey(key: string): string[] {
  const segments: string[] = [];
  let current = "";
  let quote = "";
  for (let i = 0; i < key.length; i++) {
    const ch = key[i] ?? "";
    if (quote !== "") {
      if (quote === '"' && ch === "\\") current += key[++i] ?? "";
      else if (ch === quote) quote = "";
      else current += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ".") {
      segments.push(current.trim());
      current = "";
    } else current += ch;
  }
  segments.push(current.trim());
  return segments;
}

function findOutsideQuotes(line: string, target: string): number {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote !== "") {
      if (quote === '"' && ch === "\\") i++;
      else if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === target) return i;
    else if (ch === "#") return -1;
  }
  return -1;
}

function pathKey(path: KeyPath): string {
  return JSON.stringify(path);
}
