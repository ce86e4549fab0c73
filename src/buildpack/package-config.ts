import type { ModuleKind, Target } from "./descriptor-types.js";
import { readTargets } from "./target-read.js";
import { parseTomlDocument, type TomlTable } from "./toml-document.js";
import { TomlFields } from "./toml-fields.js";
import { describeUnknownKey, unknownPackageKeys } from "./unknown-keys.js";

/** One `[[dependencies]]` entry of package.toml: a buildpack to include, by path/URL or by image. */
export type PackageDependency = { uri: string } | { image: string };

/** A parsed and validated package.toml (the input of `pack buildpack package --config`). */
export interface PackageConfig {
  file: string;
  /** Whether `[buildpack]` or `[extension]` is packaged. */
  kind: ModuleKind;
  /** `[buildpack] uri` or `[extension] uri`, as written (relative to the package.toml folder). */
  uri: string;
  dependencies: PackageDependency[];
  /** `[platform] os`; `linux` when absent. */
  os: string;
  targets: Target[];
  document: TomlTable;
}

const PLATFORM_OSES = ["linux", "windows"];

/** Parses and validates package.toml; throws the first problem (`PACKAGE_TOML_INVALID`, `PACKAGE_TARGET_*`). */
export function parsePackageToml(text: string, options: { file?: string } = {}): PackageConfig {
  const file = options.file ?? "package.toml";
  const document = parseTomlDocument(text, file, "PACKAGE_TOML_INVALID");
  const fields = new TomlFields(file, text, "PACKAGE_TOML_INVALID");
  const unknown = unknownPackageKeys(document);
  if (unknown.length > 0) {
    // First: pack refuses them too ("unknown configuration element"): a typo would otherwise drop a setting.
    fields.report(
      "PACKAGE_TOML_INVALID",
      unknown[0]!.split("."),
      `unknown configuration element${unknown.length === 1 ? "" : "s"} ${unknown.map((k) => describeUnknownKey(k, "package", "'")).join(", ")}`,
      "package.toml knows [buildpack] or [extension] uri, [[dependencies]] uri or image, [platform] os and [[targets]]",
    );
  }
  const buildpack = fields.table(document, "buildpack", []);
  const extension = fields.table(document, "extension", []);
  const kind: ModuleKind = extension !== undefined && buildpack === undefined ? "extension" : "buildpack";
  if (buildpack !== undefined && extension !== undefined) {
    fields.report(
      "PACKAGE_TOML_INVALID",
      ["extension"],
      "package.toml may name a [buildpack] or an [extension], not both",
    );
  }
  const uri = fields.string((kind === "buildpack" ? buildpack : extension) ?? {}, "uri", [kind]) ?? "";
  if (uri === "") {
    fields.report("PACKAGE_TOML_INVALID", [kind, "uri"], `missing [${kind}] uri`, `add [${kind}] uri = "."`);
  }

  const dependencies: PackageDependency[] = [];
  fields.tables(document, "dependencies", []).forEach((entry, i) => {
    const at = ["dependencies", i];
    const depUri = fields.string(entry, "uri", at);
    const image = fields.string(entry, "image", at);
    if (depUri && image)
      fields.report("PACKAGE_TOML_INVALID", [...at, "image"], "give either uri or image, not both");
    else if (depUri) dependencies.push({ uri: depUri });
    else if (image) dependencies.push({ image });
    else fields.report("PACKAGE_TOML_INVALID", at, "a dependency needs a uri or an image");
  });

  const platform = fields.table(document, "platform", []) ?? {};
  const os = fields.string(platform, "os", ["platform"]) ?? "linux";
  if (!PLATFORM_OSES.includes(os)) {
    fields.report(
      "PACKAGE_TOML_INVALID",
      ["platform", "os"],
      `unsupported os ${JSON.stringify(os)}`,
      'use "linux" or "windows"',
    );
  }
  const targets = readTargets(fields, document, "PACKAGE");

  const [first] = fields.problems;
  if (first !== undefined) throw first;
  return { file, kind, uri, dependencies, os, targets, document };
}

/** Whether a value read from package.toml is an image dependency. */
export function isImageDependency(dependency: PackageDependency): dependency is { image: string } {
  return "image" in dependency;
}
