import { PolypackError } from "../errors/index.js";
import { Reference } from "../registry/reference.js";

/** The output flags of `buildpack package`, as given. */
export interface OutputFlags {
  format?: string;
  output?: string;
  publish?: boolean;
  tags?: readonly string[];
  byDigest?: boolean;
}

/** Where the command line asked the package to go, before anything is opened. */
export type OutputChoice =
  | { kind: "layout" | "file"; path: string; refs: string[] }
  | { kind: "registry"; reference: Reference; tags: string[] };

const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Reads the output flags like pack: `--format file` writes NAME (or `--output`) as a `.cnb`,
 * `--format layout` an OCI layout at `--output`, and `--publish` or `--format image` pushes to the
 * registry NAME names (there is no daemon to write to). Without `--format` an `--output` ending in
 * `.cnb` is a file and any other a layout. Refs and tags are NAME's tag (else `latest`) plus each
 * `--tag`; `--by-digest` pushes no tag at all. Throws OUTPUT_REQUIRED, FLAGS_CONFLICT, FORMAT_INVALID
 * or TAG_INVALID.
 */
export function chooseOutput(name: string, flags: OutputFlags): OutputChoice {
  const format = flags.format ?? (flags.publish ? "image" : inferFormat(flags.output));
  if (!["file", "layout", "image"].includes(format)) {
    throw new PolypackError("FORMAT_INVALID", `unknown --format ${JSON.stringify(format)}`, {
      hint: "use file (.cnb), layout (OCI image layout directory) or image (push to a registry)",
    });
  }
  if (flags.publish && format !== "image") {
    throw new PolypackError("FLAGS_CONFLICT", `--publish pushes to a registry, but --format is ${format}`, {
      hint: "drop --publish to write a file or layout, or use --format image",
    });
  }
  if (flags.byDigest && format !== "image") {
    throw new PolypackError("FLAGS_CONFLICT", "--by-digest only applies when pushing to a registry", {
      hint: "add --publish",
    });
  }
  if (format === "image") {
    const reference = Reference.parse(name);
    const tags = flags.byDigest
      ? []
      : unique([reference.tag ?? "latest", ...(flags.tags ?? []).map((t) => tagOf(t, reference))]);
    return { kind: "registry", reference, tags };
  }
  const path = flags.output ?? (format === "file" ? name : undefined);
  if (path === undefined) {
    throw new PolypackError("OUTPUT_REQUIRED", "--format layout needs --output DIR", {
      hint: "for example --output ./my-buildpack-oci",
    });
  }
  return { kind: format as "file" | "layout", path, refs: unique([refOf(name), ...(flags.tags ?? [])]) };
}

function inferFormat(output: string | undefined): string {
  if (output === undefined) {
    throw new PolypackError("OUTPUT_REQUIRED", "say where the package goes", {
      hint: "add --output FILE.cnb, --format layout --output DIR, or --publish to push NAME to a registry",
    });
  }
  return output.endsWith(".cnb") ? "file" : "layout";
}

// A layout's ref name: NAME's tag when NAME is an image reference with one, else `latest`.
function refOf(name: string): string {
  try {
    return Reference.parse(name).tag ?? "latest";
  } catch {
    return "latest";
  }
}

function tagOf(value: string, reference: Reference): string {
  if (TAG.test(value)) return value;
  let other: Reference | undefined;
  try {
    other = Reference.parse(value);
  } catch {
    other = undefined;
  }
  if (other?.tag && other.registry === reference.registry && other.repository === reference.repository)
    return other.tag;
  throw new PolypackError(
    "TAG_INVALID",
    `--tag ${JSON.stringify(value)} is not a tag of ${reference.registry}/${reference.repository}`,
    {
      hint: "give a bare tag such as 1.2.3, or a reference to the same repository",
    },
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
