import { PolypackError } from "../errors/index.js";
import {
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  EXTENSION_LAYERS_LABEL,
} from "../buildpack/labels.js";

/**
 * `--label NAME=VALUE` values as a label map. Like pack, one value may hold several labels separated
 * by commas (`-l a=1,b=2`); a comma not followed by `NAME=` stays in the value, so
 * `authors=Ann,Bob` keeps working. A label without `=` or a name, the same name twice,
 * or one of the labels polypack writes itself (`io.buildpacks.buildpackage.metadata`, the layers
 * labels) is LABEL_INVALID.
 */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values.flatMap(splitLabels)) {
    const equals = value.indexOf("=");
    const name = equals > 0 ? value.slice(0, equals).trim() : "";
    const problem =
      name === ""
        ? "is not NAME=VALUE"
        : name in labels
          ? "is given twice"
          : RESERVED_LABELS.includes(name)
            ? "is written by polypack itself"
            : undefined;
    if (problem !== undefined) {
      throw new PolypackError("LABEL_INVALID", `--label ${JSON.stringify(value)} ${problem}`, {
        hint: "give each label once as NAME=VALUE, for example --label org.opencontainers.image.source=https://…",
      });
    }
    labels[name] = value.slice(equals + 1);
  }
  return labels;
}

/** One `--label` value split into its labels: at each comma that starts another `NAME=`. */
export function splitLabels(value: string): string[] {
  return value.split(/,(?=[^,=\s]+=)/);
}

/** One `--tag` value split into its tags (`--tag a,b`, as pack reads it); empty pieces are dropped. */
export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((piece) => piece.trim())
    .filter((piece) => piece !== "");
}

const RESERVED_LABELS: readonly string[] = [
  BUILDPACKAGE_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  EXTENSION_LAYERS_LABEL,
];
