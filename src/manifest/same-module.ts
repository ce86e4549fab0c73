import { BUILDPACKAGE_METADATA_LABEL } from "../buildpack/labels.js";
import { PolypackError } from "../errors/index.js";

/** The label a builder image describes itself with (buildpacks, lifecycle, stack). */
export const BUILDER_METADATA_LABEL = "io.buildpacks.builder.metadata";
/** The label holding a builder's detection order. */
export const BUILDPACK_ORDER_LABEL = "io.buildpacks.buildpack.order";

/** One image of an index, named for messages, with its config's labels. */
export interface LabelledChild {
  name: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * What makes an image one buildpack or builder, whatever its platform: a buildpackage's id and
 * version; a builder's buildpacks, detection order and lifecycle version. Undefined for an image
 * that is neither.
 */
export function moduleIdentity(labels: Readonly<Record<string, string>>): string | undefined {
  const builder = labels[BUILDER_METADATA_LABEL];
  if (builder !== undefined) {
    const metadata = parsed(builder);
    const buildpacks = Array.isArray(metadata?.["buildpacks"])
      ? (metadata["buildpacks"] as unknown[]).map(moduleRef).sort()
      : [];
    const lifecycle = asObject(metadata?.["lifecycle"])?.["version"];
    const order = labels[BUILDPACK_ORDER_LABEL];
    // Compared as written: builders write the order label compactly, from the same order table.
    const orderText = order ?? "none";
    const buildpackText = metadata ? buildpacks.join(", ") || "none" : `label ${builder}`;
    return `builder with buildpacks ${buildpackText}, lifecycle ${text(lifecycle)}, order ${orderText}`;
  }
  const buildpackage = labels[BUILDPACKAGE_METADATA_LABEL];
  if (buildpackage !== undefined) {
    const metadata = parsed(buildpackage);
    return metadata ? `buildpack ${moduleRef(metadata)}` : `buildpack with label ${buildpackage}`;
  }
  return undefined;
}

/**
 * Refuses, with MANIFEST_CHILDREN_DIFFER, images that are not the same buildpack or builder: when
 * any child is a buildpackage or a builder (by its labels), every child must be, with the same id
 * and version (buildpackages) or the same buildpacks, order and lifecycle version (builders). Plain
 * images, none of them a buildpack or builder, pass. Used before any tag moves to an index.
 */
export function checkSameBuildpackOrBuilder(children: readonly LabelledChild[]): void {
  const [first, ...rest] = children.map((child) => ({
    name: child.name,
    identity: moduleIdentity(child.labels),
  }));
  if (!first) return;
  const other = rest.find((child) => child.identity !== first.identity);
  if (other === undefined) return;
  const what = (identity: string | undefined): string => identity ?? "neither a buildpack nor a builder";
  throw new PolypackError(
    "MANIFEST_CHILDREN_DIFFER",
    `${first.name} is ${what(first.identity)}, but ${other.name} is ${what(other.identity)}: one index holds the platforms of one buildpack or builder`,
  );
}

function moduleRef(value: unknown): string {
  const object = asObject(value);
  return `${text(object?.["id"])}@${text(object?.["version"])}`;
}

function parsed(text: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A label field as text; anything but a string or number (absent, an object) is "?". */
function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "?";
}
