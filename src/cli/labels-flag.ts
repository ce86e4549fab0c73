import { PolypackError } from "../errors/index.js";
import {
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  EXTENSION_LAYERS_LABEL,
} from "../buildpack/labels.js";

/**
 * `--label NAME=VALUE` values as a label map. A label without `=` or a name, the same name twice,
 * or one of the labels polypack writes itself (`io.buildpacks.buildpackage.metadata`, the layers
 * labels) is LABEL_INVALID.
 */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
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

const RESERVED_LABELS: readonly string[] = [
  BUILDPACKAGE_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  EXTENSION_LAYERS_LABEL,
];
