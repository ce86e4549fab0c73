import { internalError, isPolypackError, PolypackError } from "../errors/index.js";
import { readDescriptor } from "./descriptor-read.js";
import type { BuildpackDescriptor, ModuleKind } from "./descriptor-types.js";
import { validateDescriptor } from "./descriptor-validate.js";
import { parseTomlDocument } from "./toml-document.js";
import { TomlFields } from "./toml-fields.js";

/** Options for reading a descriptor. */
export interface DescriptorOptions {
  /** The name used in messages; defaults to `buildpack.toml` or `extension.toml`. */
  file?: string;
  /**
   * The version to package, as `jam pack --version` gives it: it replaces the file's version,
   * which real sources often leave out or write as the template `{{.version}}`.
   */
  version?: string;
}

/** Every problem found in a descriptor, and the model when the TOML itself parsed. */
export interface DescriptorCheck {
  descriptor?: BuildpackDescriptor;
  problems: PolypackError[];
}

/** Reads a buildpack.toml or extension.toml and collects every problem instead of stopping at the first. */
export function checkDescriptor(
  text: string,
  kind: ModuleKind,
  options: DescriptorOptions = {},
): DescriptorCheck {
  const file = options.file ?? `${kind}.toml`;
  let document;
  try {
    document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID");
  } catch (error) {
    if (isPolypackError(error)) return { problems: [error] };
    throw error;
  }
  const fields = new TomlFields(file, text, "BUILDPACK_TOML_INVALID");
  const descriptor = readDescriptor(fields, document, text, kind);
  if (options.version !== undefined) descriptor.info.version = options.version;
  validateDescriptor(fields, descriptor);
  return { descriptor, problems: fields.problems };
}

/** Parses and validates a buildpack.toml; throws the first problem as a PolypackError. */
export function parseBuildpackToml(text: string, options: DescriptorOptions = {}): BuildpackDescriptor {
  return firstProblemOrDescriptor(checkDescriptor(text, "buildpack", options));
}

/** Parses and validates an extension.toml; throws the first problem as a PolypackError. */
export function parseExtensionToml(text: string, options: DescriptorOptions = {}): BuildpackDescriptor {
  return firstProblemOrDescriptor(checkDescriptor(text, "extension", options));
}

function firstProblemOrDescriptor(check: DescriptorCheck): BuildpackDescriptor {
  const [first, ...more] = check.problems;
  if (first !== undefined) {
    if (more.length === 0) throw first;
    const others = `${more.length} more problem${more.length === 1 ? "" : "s"}: ${more.map((p) => p.message).join("; ")}`;
    throw new PolypackError(first.code, first.message, {
      hint: first.hint ? `${first.hint} (${others})` : others,
    });
  }
  if (check.descriptor === undefined) throw internalError("descriptor missing without a problem");
  return check.descriptor;
}
