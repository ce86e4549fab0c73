import { PolypackError } from "../errors/index.js";
import { REF_NAME_ANNOTATION, type Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { buildImageIndex, encodeJSON, parseManifest, type ImageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";

/** The file that marks a directory (or archive) as an OCI image layout. */
export const OCI_LAYOUT_FILE = "oci-layout";
/** The file that lists the layout's images. */
export const INDEX_FILE = "index.json";
/** The layout version polypack writes. */
export const LAYOUT_VERSION = "1.0.0";

/** The bytes of the `oci-layout` file polypack writes. */
export function encodeOciLayoutFile(): Buffer {
  return encodeJSON({ imageLayoutVersion: LAYOUT_VERSION });
}

/** Checks an `oci-layout` file: a JSON object whose imageLayoutVersion is 1.x. */
export function checkOciLayoutFile(bytes: Buffer, where: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString("utf8")) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (error) {
    throw layoutInvalid(`${where} is not valid JSON`, error);
  }
  if (typeof version !== "string" || !/^1\.\d+\.\d+$/.test(version)) {
    throw layoutInvalid(`${where} has imageLayoutVersion ${JSON.stringify(version)}; expected 1.0.0`);
  }
}

/** Parses `index.json`; any fault (JSON, schema, a bad digest) becomes LAYOUT_INVALID naming the file. */
export function parseIndexFile(bytes: Buffer, where: string): ImageIndex {
  try {
    const parsed = parseManifest(bytes, MediaType.ociIndex, where);
    if (parsed.kind !== "index") throw new Error("it is an image manifest, not an index");
    return parsed.index;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw layoutInvalid(`${where} is not a valid image index: ${why}`, error);
  }
}

/** The bytes of an `index.json` listing `manifests`, keeping the index's own annotations. */
export function encodeIndexFile(manifests: Descriptor[], annotations?: Record<string, string>): Buffer {
  return encodeJSON(buildImageIndex(manifests, annotations ? { annotations } : {}));
}

/** The path of a blob relative to the layout root; built only from a parsed Digest. */
export function blobRelativePath(digest: Digest): string {
  return `blobs/${digest.algorithm}/${digest.hex}`;
}

/** The ref name of an index.json entry, if it has one. */
export function refNameOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[REF_NAME_ANNOTATION];
}

/** A descriptor without its ref name annotation (ref names belong to one layout only). */
export function withoutRefName(descriptor: Descriptor): Descriptor {
  if (refNameOf(descriptor) === undefined) return descriptor;
  const { [REF_NAME_ANNOTATION]: _ref, ...rest } = descriptor.annotations ?? {};
  const { annotations: _annotations, ...plain } = descriptor;
  return Object.keys(rest).length > 0 ? { ...plain, annotations: rest } : plain;
}

/**
 * index.json entries after naming `descriptor` with each ref: an entry that already has the ref is
 * replaced in place, new refs are appended, other entries are kept.
 */
export function withRefs(
  manifests: readonly Descriptor[],
  descriptor: Descriptor,
  refs: readonly string[],
): Descriptor[] {
  const result = [...manifests];
  for (const ref of refs) {
    const named = {
      ...descriptor,
      annotations: { ...withoutRefName(descriptor).annotations, [REF_NAME_ANNOTATION]: ref },
    };
    const at = result.findIndex((entry) => refNameOf(entry) === ref);
    if (at >= 0) result[at] = named;
    else result.push(named);
  }
  return result;
}

/** index.json entries with `descriptor` listed without a name, unless an unnamed entry has it already. */
export function withUnnamed(manifests: readonly Descriptor[], descriptor: Descriptor): Descriptor[] {
  const present = manifests.some((m) => refNameOf(m) === undefined && m.digest === descriptor.digest);
  return present ? [...manifests] : [...manifests, withoutRefName(descriptor)];
}

/** A LAYOUT_INVALID error. */
export function layoutInvalid(message: string, cause?: unknown): PolypackError {
  return new PolypackError("LAYOUT_INVALID", message, {
    cause,
    hint: "the directory or archive is not a valid OCI image layout",
  });
}
