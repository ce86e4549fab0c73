import type { ModuleKind } from "./descriptor-types.js";

/** Ids the buildpack spec reserves: the lifecycle keeps its own `<layers>/app`, `config` and `sbom`. */
export const RESERVED_IDS: readonly string[] = ["app", "config", "sbom"];
/** The image extension spec reserves only `app` and `config`. */
export const RESERVED_EXTENSION_IDS: readonly string[] = ["app", "config"];

/** One reason an id or version cannot be used, for the caller to place at its file and key. */
export interface ModuleReferenceProblem {
  /** Which value is wrong. */
  key: "id" | "version";
  code: "BUILDPACK_ID_INVALID" | "BUILDPACK_VERSION_INVALID";
  /** What is wrong, quoting the value. */
  reason: string;
  hint: string;
}

const ID_CHARACTERS = /^[A-Za-z0-9./-]+$/;
// NUL ends a name in a tar header, and control characters make names nobody can read in a listing.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Checks the id and version of a buildpack or image extension, which become the folder
 * `/cnb/buildpacks/<id with / as _>/<version>/` (or `/cnb/extensions/...`) in every image that holds
 * it and in the lifecycle's lookups. Every reader of such a pair calls this before the values reach
 * a path: buildpack.toml and extension.toml, `[[order.group]]` entries, the layers labels of images
 * a composite package includes, and the builder.toml reader still to be written (its
 * `[[buildpacks]]`, `[[extensions]]` and `[[order.group]]` entries). `version` undefined means
 * "not given" (an order entry may leave it out); an empty string is a problem.
 *
 * An id follows the spec (letters, digits, `.`, `/` and `-`; not a reserved name) and, because `/`
 * separates a namespace from a name, no `/`-separated segment may be empty, `.` or `..`. A version
 * must be one folder name: not empty, `.` or `..`, and without `/` or control characters.
 */
export function checkModuleReference(
  kind: ModuleKind,
  id: string,
  version?: string,
): ModuleReferenceProblem[] {
  const problems: ModuleReferenceProblem[] = [];
  const idProblem = checkId(kind, id);
  if (idProblem !== undefined) {
    problems.push({ key: "id", code: "BUILDPACK_ID_INVALID", ...idProblem });
  }
  const versionProblem = version === undefined ? undefined : checkVersion(version);
  if (versionProblem !== undefined) {
    problems.push({ key: "version", code: "BUILDPACK_VERSION_INVALID", ...versionProblem });
  }
  return problems;
}

function checkId(kind: ModuleKind, id: string): { reason: string; hint: string } | undefined {
  const quoted = JSON.stringify(id);
  const example = `for example "my-org/my-${kind}"`;
  if (id === "") return { reason: `the ${kind} id is empty`, hint: `give an id, ${example}` };
  if (!ID_CHARACTERS.test(id)) {
    return {
      reason: `invalid id ${quoted}`,
      hint: "an id may only contain letters, digits, '.', '/' and '-'",
    };
  }
  const segments = id.split("/");
  if (segments.some((segment) => segment === "." || segment === "..")) {
    return {
      reason: `invalid id ${quoted}: a '.' or '..' segment would place its files outside /cnb/${kind}s/`,
      hint: `'/' only separates a namespace from a name, ${example}`,
    };
  }
  if (segments.includes("")) {
    return {
      reason: `invalid id ${quoted}: it starts or ends with '/' or holds '//'`,
      hint: `'/' only separates a namespace from a name, ${example}`,
    };
  }
  const reserved = kind === "extension" ? RESERVED_EXTENSION_IDS : RESERVED_IDS;
  if (reserved.includes(id)) {
    return {
      reason: `the id ${quoted} is reserved`,
      hint: `the lifecycle uses ${reserved.join(", ")} for itself; choose another id`,
    };
  }
  return undefined;
}

function checkVersion(version: string): { reason: string; hint: string } | undefined {
  const quoted = JSON.stringify(version);
  const hint = 'a version names one folder, for example "1.2.3"';
  if (version === "") return { reason: "the version is empty", hint };
  if (version === "." || version === "..") {
    return { reason: `invalid version ${quoted}: it would name a folder outside its id's`, hint };
  }
  if (version.includes("/")) {
    return { reason: `invalid version ${quoted}: it holds '/', so it is not one folder name`, hint };
  }
  if (CONTROL_CHARACTERS.test(version)) {
    return { reason: `invalid version ${quoted}: it holds a control character`, hint };
  }
  return undefined;
}
