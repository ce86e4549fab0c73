import type { BuildpackDescriptor, BuildpackInfo, ModuleKind } from "./descriptor-types.js";
import { checkModuleReference } from "./module-id.js";
import type { TomlFields } from "./toml-fields.js";
import { closestWord } from "../util/suggest.js";
import { isTable } from "./toml-document.js";
import { describeUnknownKey, unknownDescriptorKeys } from "./unknown-keys.js";

/** Buildpack API versions polypack reads, oldest first. */
export const SUPPORTED_BUILDPACK_APIS: readonly string[] = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12"];
/** Image extensions arrived with Buildpack API 0.9. */
export const SUPPORTED_EXTENSION_APIS: readonly string[] = ["0.9", "0.10", "0.11", "0.12"];

/** Buildpack API versions pack still packages, with a deprecation warning (0.1 is pack's default). */
export const DEPRECATED_BUILDPACK_APIS: readonly string[] = ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"];

/**
 * Checks the rules of the spec that typing alone cannot, reporting each problem to `fields` and
 * adding what pack accepts with a warning to `descriptor.warnings`.
 */
export function validateDescriptor(fields: TomlFields, descriptor: BuildpackDescriptor): void {
  const { kind, info, document } = descriptor;
  const supported = kind === "extension" ? SUPPORTED_EXTENSION_APIS : SUPPORTED_BUILDPACK_APIS;
  const warnings = (descriptor.warnings ??= []);
  if (descriptor.api === "" && kind === "buildpack" && document["api"] === undefined) {
    // pack reads a buildpack.toml without api as Buildpack API 0.1.
    descriptor.api = "0.1";
    warnings.push(
      `${fields.file}: no api given; reading it as Buildpack API 0.1, as pack does (add api = "0.10")`,
    );
  } else if (kind === "buildpack" && DEPRECATED_BUILDPACK_APIS.includes(descriptor.api)) {
    warnings.push(
      `${fields.file}: Buildpack API ${descriptor.api} is deprecated; packaging it as pack does, but current ` +
        `lifecycles may refuse it (move to api = "0.10")`,
    );
  } else if (descriptor.api === "") {
    fields.report(
      "BUILDPACK_API_UNSUPPORTED",
      ["api"],
      `missing the Buildpack API version`,
      `add api = "0.10"`,
    );
  } else if (!supported.includes(descriptor.api)) {
    fields.report(
      "BUILDPACK_API_UNSUPPORTED",
      ["api"],
      `unsupported Buildpack API ${JSON.stringify(descriptor.api)}`,
      `polypack reads ${kind}s with api ${supported.join(", ")}`,
    );
  }

  const unknown = unknownDescriptorKeys(document, kind);
  if (unknown.length > 0) {
    warnings.push(
      `${fields.file}: ignoring key${unknown.length === 1 ? "" : "s"} pack does not read: ${unknown
        .map((key) => describeUnknownKey(key, kind))
        .join(", ")}`,
    );
  }
  warnings.push(...misspeltMetadataKeys(fields.file, document["metadata"]));

  if (document[kind] === undefined) {
    // A misspelt table name is the likely cause; the id hint of BUILDPACK_ID_INVALID is not.
    const misspelt = unknown.find((key) => closestWord(key, [kind]) === kind);
    fields.report(
      `BUILDPACK_ID_INVALID`,
      [],
      `missing the [${kind}] table with its id and version${misspelt ? ` ([${misspelt}] looks like a misspelling of it)` : ""}`,
      `add [${kind}] with id = "my-org/my-${kind}" and version = "1.0.0"`,
    );
  } else {
    validateInfo(fields, kind, info);
  }
  descriptor.order.forEach((order, i) =>
    order.group.forEach((entry, j) => {
      if (entry.id === "") return; // reported when read
      for (const problem of checkModuleReference("buildpack", entry.id, entry.version)) {
        fields.report(problem.code, ["order", i, "group", j, problem.key], problem.reason, problem.hint);
      }
    }),
  );

  descriptor.stacks.forEach((stack, i) => {
    if (stack.id === "") fields.report("BUILDPACK_TOML_INVALID", ["stacks", i, "id"], "missing the stack id");
  });

  if (descriptor.order.length > 0) {
    if (kind === "extension") {
      fields.report("BUILDPACK_ORDER_CONFLICT", ["order", 0], "an extension cannot declare [[order]]");
    } else if (document["targets"] !== undefined || document["stacks"] !== undefined) {
      const other = document["targets"] !== undefined ? "[[targets]]" : "[[stacks]]";
      fields.report(
        "BUILDPACK_ORDER_CONFLICT",
        ["order", 0],
        `a composite buildpack ([[order]]) cannot also declare ${other}`,
        `remove ${other}: a composite buildpack supports the targets of the buildpacks in its order`,
      );
    }
  }
}

// [metadata] is free-form, but polypack itself reads these keys there: a near miss is a typo that
// silently turns packaging behaviour off (the pre-package step not run, include-files not applied).
const POLYPACK_METADATA_KEYS: readonly string[] = ["pre-package", "include-files"];

function misspeltMetadataKeys(file: string, metadata: unknown): string[] {
  if (!isTable(metadata)) return [];
  return Object.keys(metadata).flatMap((key) => {
    const meant = closestWord(key, POLYPACK_METADATA_KEYS);
    return meant === undefined || meant in metadata
      ? []
      : [`${file}: [metadata] ${key} is not read; did you mean ${meant}?`];
  });
}

// The id and version become folder names, so beyond being present they must pass checkModuleReference.
function validateInfo(fields: TomlFields, kind: ModuleKind, info: BuildpackInfo): void {
  const versionHint = `add [${kind}] version = "1.2.3", or give it when packaging with --version 1.2.3`;
  const template = info.version.includes("{{");
  const problems = checkModuleReference(
    kind,
    info.id,
    info.version === "" || template ? undefined : info.version,
  );
  for (const problem of problems) {
    const reason = info.id === "" && problem.key === "id" ? `missing the ${kind} id` : problem.reason;
    fields.report(problem.code, [kind, problem.key], reason, problem.hint);
  }
  if (info.version === "") {
    fields.report("BUILDPACK_VERSION_MISSING", [kind, "version"], `missing the ${kind} version`, versionHint);
  } else if (template) {
    // libpak and jam fill `{{.version}}` at package time; the packager must supply it.
    fields.report(
      "BUILDPACK_VERSION_MISSING",
      [kind, "version"],
      `the version is the template ${JSON.stringify(info.version)}`,
      versionHint,
    );
  }
}
