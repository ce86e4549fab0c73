import { PolypackError, type ErrorCode } from "../errors/index.js";
import { formatKeyPath, isTable, type KeyPath, type TomlTable, type TomlValue } from "./toml-document.js";
import { TomlLocator } from "./toml-locate.js";

/**
 * Typed reads from a parsed TOML document that collect problems instead of throwing, each problem
 * a PolypackError whose message reads `file:line: key: reason`. One instance per file.
 */
export class TomlFields {
  /** Every problem found so far, in the order found. */
  readonly problems: PolypackError[] = [];
  private readonly locator: TomlLocator;

  /** `typeCode` is the error code for a value of the wrong type, for example `BUILDPACK_TOML_INVALID`. */
  constructor(
    readonly file: string,
    text: string,
    private readonly typeCode: ErrorCode,
  ) {
    this.locator = new TomlLocator(text);
  }

  /** The 1-based line of a key or its nearest ancestor. */
  lineOf(path: KeyPath): number | undefined {
    return this.locator.lineOf(path);
  }

  /** Builds (but does not record) an error located at `path`. */
  error(code: ErrorCode, path: KeyPath, reason: string, hint?: string): PolypackError {
    const line = this.lineOf(path);
    const where = line === undefined ? this.file : `${this.file}:${line}`;
    const key = path.length > 0 ? ` ${formatKeyPath(path)}:` : "";
    return new PolypackError(code, `${where}:${key} ${reason}`, hint === undefined ? {} : { hint });
  }

  /** Records an error located at `path`. */
  report(code: ErrorCode, path: KeyPath, reason: string, hint?: string): void {
    this.problems.push(this.error(code, path, reason, hint));
  }

  /** A string value, or undefined when absent or of the wrong type (reported). */
  string(table: TomlTable, key: string, path: KeyPath): string | undefined {
    const value = table[key];
    if (value === undefined || typeof value === "string") return value;
    this.wrongType(path, key, "a string", value);
    return undefined;
  }

  /** A boolean value, or undefined when absent or of the wrong type (reported). */
  boolean(table: TomlTable, key: string, path: KeyPath): boolean | undefined {
    const value = table[key];
    if (value === undefined || typeof value === "boolean") return value;
    this.wrongType(path, key, "true or false", value);
    return undefined;
  }

  /** An array of strings; empty when absent or of the wrong type (reported). */
  strings(table: TomlTable, key: string, path: KeyPath): string[] {
    const value = table[key];
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
    this.wrongType(path, key, "an array of strings", value);
    return [];
  }

  /** A table, or undefined when absent or of the wrong type (reported). */
  table(table: TomlTable, key: string, path: KeyPath): TomlTable | undefined {
    const value = table[key];
    if (value === undefined || isTable(value)) return value;
    this.wrongType(path, key, "a table", value);
    return undefined;
  }

  /** An array of tables (`[[key]]`); empty when absent or of the wrong type (reported). */
  tables(table: TomlTable, key: string, path: KeyPath): TomlTable[] {
    const value = table[key];
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every(isTable)) return value;
    this.wrongType(path, key, "an array of tables", value);
    return [];
  }

  /** A table whose values are all strings, such as `[metadata.default-versions]`. */
  stringMap(table: TomlTable, key: string, path: KeyPath): Record<string, string> {
    const value = this.table(table, key, path);
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(value ?? {})) {
      if (typeof item === "string") out[name] = item;
      else this.wrongType([...path, key], name, "a string", item);
    }
    return out;
  }

  private wrongType(path: KeyPath, key: string, expected: string, value: TomlValue): void {
    this.report(this.typeCode, [...path, key], `expected ${expected}, found ${describe(value)}`);
  }
}

/** A short description of a TOML value's type, for messages. */
export function describe(value: TomlValue): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  return `${typeof value} ${JSON.stringify(typeof value === "bigint" ? value.toString() : value)}`;
}
