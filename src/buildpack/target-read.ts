import type { ErrorCode } from "../errors/index.js";
import { Platform } from "../oci/platform.js";
import type { Distro, Target } from "./descriptor-types.js";
import type { KeyPath, TomlTable } from "./toml-document.js";
import type { TomlFields } from "./toml-fields.js";
import { makeTarget, targetKey } from "./targets.js";

/**
 * Reads `[[targets]]` below `path` (the document root for buildpack.toml and package.toml),
 * reporting unknown platforms and targets that are equal after normalisation. Error codes are
 * `<prefix>_TARGET_INVALID` and `<prefix>_TARGET_DUPLICATE`.
 */
export function readTargets(
  fields: TomlFields,
  table: TomlTable,
  prefix: "BUILDPACK" | "PACKAGE",
  path: KeyPath = [],
): Target[] {
  const targets: Target[] = [];
  const seen = new Map<string, number>();
  fields.tables(table, "targets", path).forEach((entry, index) => {
    const at = [...path, "targets", index];
    const target = readTarget(fields, entry, at, `${prefix}_TARGET_INVALID`);
    if (target === undefined) return;
    const key = targetKey(target);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, index);
      targets.push(target);
    } else {
      fields.report(
        `${prefix}_TARGET_DUPLICATE`,
        at,
        `duplicate target ${key}: [[targets]][${first}] is the same target after normalisation`,
        "remove one of the two [[targets]] entries",
      );
    }
  });
  return targets;
}

function readTarget(fields: TomlFields, entry: TomlTable, at: KeyPath, code: ErrorCode): Target | undefined {
  const os = fields.string(entry, "os", at) ?? "";
  const arch = fields.string(entry, "arch", at) ?? "";
  // The spec spells it `variant`; the lifecycle's decoder reads `arch-variant`. Accept either.
  const variant = fields.string(entry, "variant", at);
  const archVariant = fields.string(entry, "arch-variant", at);
  if (variant !== undefined && archVariant !== undefined && variant !== archVariant) {
    fields.report(
      code,
      [...at, "arch-variant"],
      `"arch-variant" is ${JSON.stringify(archVariant)} but "variant" is ${JSON.stringify(variant)}`,
    );
    return undefined;
  }
  const distros: Distro[] = fields.tables(entry, "distros", at).map((distro, i) => ({
    name: fields.string(distro, "name", [...at, "distros", i]) ?? "",
    version: fields.string(distro, "version", [...at, "distros", i]) ?? "",
  }));
  let valid = true;
  if (os !== "" && !parses(`${os}/amd64`)) {
    fields.report(code, [...at, "os"], `unknown operating system ${JSON.stringify(os)}`, KNOWN_HINT);
    valid = false;
  }
  if (arch !== "" && !parses(`linux/${arch}`)) {
    fields.report(code, [...at, "arch"], `unknown architecture ${JSON.stringify(arch)}`, KNOWN_HINT);
    valid = false;
  }
  return valid ? makeTarget({ os, arch, variant: variant ?? archVariant ?? "", distros }) : undefined;
}

const KNOWN_HINT = 'use Go\'s names, for example os = "linux" and arch = "amd64", "arm64" or "arm"';

// Platform.parse knows the valid os and architecture names; a placeholder fills the other half.
function parses(platform: string): boolean {
  try {
    Platform.parse(platform);
    return true;
  } catch {
    return false;
  }
}
