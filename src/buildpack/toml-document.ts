import { parse, TomlError, type TomlTable, type TomlValue } from "smol-toml";
import { PolypackError, type ErrorCode } from "../errors/index.js";

export type { TomlTable, TomlValue };

/** A path into a TOML document: table keys and array indexes, for example `["targets", 1, "arch"]`. */
export type KeyPath = readonly (string | number)[];

/**
 * Parses TOML text, turning a syntax error into a PolypackError with `code` whose message starts
 * with `file:line:`. `exactNumbers` keeps integers as bigint so that a later `stringify` writes
 * integers and floats back exactly as they were (`1.0` stays a float).
 */
export function parseTomlDocument(
  text: string,
  file: string,
  code: ErrorCode,
  options: { exactNumbers?: boolean } = {},
): TomlTable {
  try {
    return options.exactNumbers ? parse(text, { integersAsBigInt: true }) : parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml appends a code excerpt after a blank line; the first line is the reason.
    const reason = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document:\s*/, "");
    throw new PolypackError(code, `${file}:${error.line}: invalid TOML: ${reason}`, {
      cause: error,
      hint: `fix the syntax at line ${error.line}, column ${error.column} of ${file}`,
    });
  }
}

/** Whether a TOML value is a table (not an array, not a date). */
export function isTable(value: unknown): value is TomlTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Writes a key path the way people read TOML: `[[targets]][1].arch`, `[buildpack].id`, `api`. */
export function formatKeyPath(path: KeyPath): string {
  const firstIndex = path.findIndex((part) => typeof part === "number");
  const rest = (parts: KeyPath): string =>
    parts.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? part : `.${part}`)).join("");
  if (firstIndex > 0) {
    const array = path.slice(0, firstIndex).join(".");
    const tail = path.slice(firstIndex + 1);
    return `[[${array}]][${String(path[firstIndex])}]${tail.length > 0 ? `.${rest(tail)}` : ""}`;
  }
  if (path.length > 1) return `[${path.slice(0, -1).join(".")}].${String(path[path.length - 1])}`;
  return path.map(String).join("");
}
