import type { Distro } from "./labels.js";

/**
 * Reads the variables of an os-release file (see os-release(5)): `KEY=value` lines, the value
 * optionally in single or double quotes, with backslash escapes inside double quotes; comments and
 * lines that are not assignments are skipped.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    values.set(match[1]!, unquote(match[2]!));
  }
  return values;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\`$])/g, "$1");
  }
  return value;
}

/** The distro an os-release file names (ID and VERSION_ID), or undefined when it has no ID. */
export function distroFromOsRelease(text: string): Distro | undefined {
  const values = parseOsRelease(text);
  const name = values.get("ID");
  if (name === undefined || name === "") return undefined;
  const version = values.get("VERSION_ID");
  return { name, ...(version ? { version } : {}) };
}
