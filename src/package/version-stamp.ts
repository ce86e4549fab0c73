import { stringify } from "smol-toml";
import { PolypackError } from "../errors/index.js";
import { isTable, parseTomlDocument } from "../buildpack/toml-document.js";
import { TomlLocator } from "../buildpack/toml-locate.js";

// What a version given on the command line may hold: it becomes a folder name in every image
// (`/cnb/buildpacks/<id>/<version>`), so no separators, spaces or quotes.
const VERSION = /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,127}$/;

/**
 * `text` (a buildpack.toml or extension.toml) with `[<kind>] version` set to `version`, as jam's
 * and libpak's `--version` fill the `{{.version}}` template: the version line is replaced, or one
 * added under the `[<kind>]` header, so comments and layout stay. When the table is written in a
 * way a line edit cannot handle, the document is written out again from its values. The result is
 * checked by parsing it. A version that cannot be a folder name is FLAG_INVALID.
 */
export function stampVersion(
  text: string,
  kind: "buildpack" | "extension",
  version: string,
  file: string,
): string {
  if (!VERSION.test(version)) {
    throw new PolypackError(
      "FLAG_INVALID",
      `--version ${JSON.stringify(version)} is invalid: expected a version such as 1.2.3 (letters, digits, . _ + -)`,
    );
  }
  const document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID", { exactNumbers: true });
  const edited = editLine(text, kind, version);
  if (
    edited !== undefined &&
    versionOf(parseTomlDocument(edited, file, "BUILDPACK_TOML_INVALID"), kind) === version
  ) {
    return edited;
  }
  const table = document[kind];
  // No [<kind>] table at all: leave the text, and let validation name what is missing.
  if (!isTable(table)) return text;
  table["version"] = version;
  return stringify(document, { numbersAsFloat: true });
}

function editLine(text: string, kind: string, version: string): string | undefined {
  const locator = new TomlLocator(text);
  const rows = text.split("\n");
  const value = `version = ${JSON.stringify(version)}`;
  const at = locator.keyLines([kind, "version"]);
  if (at !== undefined) {
    if (at.first !== at.last) return undefined;
    const row = rows[at.first - 1] ?? "";
    const match = /^(\s*)version\s*=\s*("[^"\\]*"|'[^']*')(\s*(#.*)?)$/.exec(row);
    if (match === null) return undefined;
    rows[at.first - 1] = `${match[1]}${value}${match[3]}`;
    return rows.join("\n");
  }
  const header = locator.lineOf([kind]);
  if (
    header === undefined ||
    !new RegExp(`^\\s*\\[\\s*${kind}\\s*\\]\\s*(#.*)?$`).test(rows[header - 1] ?? "")
  ) {
    return undefined;
  }
  rows.splice(header, 0, value);
  return rows.join("\n");
}

function versionOf(document: Record<string, unknown>, kind: string): unknown {
  const table = document[kind];
  return isTable(table) ? table["version"] : undefined;
}
