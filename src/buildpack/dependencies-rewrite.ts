import { stringify } from "smol-toml";
import type { Platform } from "../oci/platform.js";
import type { Digest } from "../oci/digest.js";
import { parseDependencies, type Dependency } from "./dependencies.js";
import { dependencyMatchesTarget } from "./dependencies-filter.js";
import type { Target } from "./descriptor-types.js";
import { isTable, parseTomlDocument } from "./toml-document.js";

/** Options for `rewriteBuildpackToml`. */
export interface RewriteOptions {
  /** The name used in messages; defaults to `buildpack.toml`. */
  file?: string;
  /** Keep only the dependencies for this target; all of them when absent. */
  target?: Target | Platform;
  /** A new `uri` for a kept dependency (see `offlineDependencyUri`); undefined keeps it. */
  uri?: (dependency: Dependency) => string | undefined;
}

/** Where an offline package stores a dependency, the path jam uses: `file:///dependencies/<hex>`. */
export function offlineDependencyUri(checksum: Digest | string): string {
  return `file:///dependencies/${typeof checksum === "string" ? checksum : checksum.hex}`;
}

/**
 * The buildpack.toml text for one target: `[[metadata.dependencies]]` keeps only the entries for
 * `target` (with `uri` rewritten when asked) and every other key and value stays as parsed, dates
 * as dates, integers as integers, floats as floats. Comments and layout are not kept except the
 * leading comment block (licence headers); text without dependencies is returned unchanged.
 */
export function rewriteBuildpackToml(text: string, options: RewriteOptions = {}): string {
  const file = options.file ?? "buildpack.toml";
  const dependencies = parseDependencies(text, { file });
  // A second parse with exact numbers, so stringify writes `1.0` back as a float and 1 as an integer.
  const document = parseTomlDocument(text, file, "BUILDPACK_TOML_INVALID", { exactNumbers: true });
  const metadata = document["metadata"];
  if (!isTable(metadata) || !Array.isArray(metadata["dependencies"])) return text;
  const entries = metadata["dependencies"];
  const { target, uri } = options;
  metadata["dependencies"] = dependencies
    .filter((dependency) => target === undefined || dependencyMatchesTarget(dependency, target))
    .map((dependency) => {
      const entry = entries[dependency.index];
      const replacement = uri?.(dependency);
      if (!isTable(entry) || replacement === undefined) return entry;
      // Assigning to a copy keeps `uri` where it was; an entry without one gets it last.
      return { ...entry, uri: replacement };
    })
    .filter((entry) => entry !== undefined);
  return `${leadingComments(text)}${stringify(document, { numbersAsFloat: true })}`;
}

function leadingComments(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trimStart().startsWith("#") && line.trim() !== "") break;
    lines.push(line);
  }
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === "") lines.pop();
  return lines.length > 0 ? `${lines.join("\n")}\n\n` : "";
}
