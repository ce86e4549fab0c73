import { PolypackError } from "../errors/index.js";
import { Reference } from "../registry/reference.js";

/** The output flags of `buildpack package`, as given. */
export interface OutputFlags {
  format?: string;
  output?: string;
  publish?: boolean;
  tags?: readonly string[];
  byDigest?: boolean;
  /** pack's `--per-target-files`: one `<name>-<os>-<arch>.cnb` per target instead of one multi-arch file. */
  perTargetFiles?: boolean;
  /** pack's `--append-image-name-suffix` (or `--arch-tags`): tag each platform's image too. */
  archTags?: boolean;
}

/** Where the command line asked the package to go, before anything is opened. */
export type OutputChoice =
  | { kind: "layout" | "file"; path: string; refs: string[] }
  | { kind: "registry"; reference: Reference; tags: string[]; elsewhere: Reference[] };

const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Reads the output flags like pack: `--format file` writes NAME (or `--output`) as a `.cnb` (NAME
 * gets `.cnb` when it lacks it), `--format layout` an OCI layout at `--output`, and `--publish`
 * pushes to the registry NAME names. `--format image` alone would write to a Docker daemon in pack;
 * polypack has none, so it is refused rather than silently pushed (PUBLISH_REQUIRED). Without
 * `--format` an `--output` ending in `.cnb` is a file and any other a layout, and so is a NAME
 * ending in `.cnb` without `--output` or `--publish`. Refs and tags are
 * NAME's tag (else `latest`) plus each `--tag`; a `--tag` naming another repository of the same
 * registry is pushed there too (`elsewhere`); `--by-digest` pushes no tag at all. Throws
 * OUTPUT_REQUIRED, PUBLISH_REQUIRED, FLAGS_CONFLICT, FORMAT_INVALID or TAG_INVALID.
 */
export function chooseOutput(name: string, flags: OutputFlags): OutputChoice {
  // A NAME that ends in .cnb, with nothing else said, can only mean that file.
  const output =
    flags.output ??
    (flags.format === undefined && !flags.publish && name.endsWith(".cnb") ? name : undefined);
  const format = flags.format ?? (flags.publish ? "image" : inferFormat(output));
  if (format === "image" && !flags.publish) {
    throw new PolypackError(
      "PUBLISH_REQUIRED",
      `--format image without --publish would write ${name} to a Docker daemon, and polypack does not use one`,
      {
        hint: "add --publish to push to the registry NAME names, or write --format layout --output DIR or --format file",
      },
    );
  }
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
  if (flags.byDigest && (flags.tags ?? []).length > 0) {
    throw new PolypackError(
      "FLAGS_CONFLICT",
      `--by-digest pushes no tag, but --tag ${flags.tags!.join(", ")} asks for one`,
      { hint: "drop --by-digest to tag, or drop --tag to push by digest only" },
    );
  }
  if (flags.perTargetFiles && format !== "file") {
    throw new PolypackError("FLAGS_CONFLICT", "--per-target-files only applies to --format file", {
      hint: "add --format file, or drop --per-target-files",
    });
  }
  if (flags.archTags && format !== "image") {
    throw new PolypackError(
      "FLAGS_CONFLICT",
      "--append-image-name-suffix (--arch-tags) only applies when pushing to a registry",
      { hint: "add --publish" },
    );
  }
  if (format === "image") {
    const reference = Reference.parse(name);
    if (flags.byDigest) return { kind: "registry", reference, tags: [], elsewhere: [] };
    const given = (flags.tags ?? []).map((t) => tagOf(t, reference));
    const tags = unique([reference.tag ?? "latest", ...given.filter((t) => typeof t === "string")]);
    const elsewhere = given.filter((t) => t instanceof Reference);
    return { kind: "registry", reference, tags, elsewhere };
  }
  // pack names the file NAME.cnb when NAME lacks the extension; an explicit --output is kept as given.
  const path = flags.output ?? (format === "file" ? withCnb(name) : undefined);
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

function withCnb(name: string): string {
  return name.endsWith(".cnb") ? name : `${name}.cnb`;
}

// A bare tag, the tag of a reference to the same repository, or (as pack's `--tag repo/image:tag`)
// a tagged reference to another repository of the same registry.
function tagOf(value: string, reference: Reference): string | Reference {
  if (TAG.test(value)) return value;
  let other: Reference | undefined;
  try {
    other = Reference.parse(value);
  } catch {
    other = undefined;
  }
  if (other?.tag && other.registry === reference.registry && other.digest === undefined) {
    return other.repository === reference.repository ? other.tag : other;
  }
  throw new PolypackError(
    "TAG_INVALID",
    `--tag ${JSON.stringify(value)} is not a tag in ${reference.registry}`,
    {
      hint: `give a bare tag such as 1.2.3, or REPOSITORY:TAG in ${reference.registry} (credentials go to one registry only)`,
    },
  );
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
