import { PolypackError } from "../errors/index.js";
import { Digest } from "./digest.js";
import { validateDescriptor, type Descriptor } from "./descriptor.js";
import { isImageMediaType, isIndexMediaType, MediaType } from "./media-types.js";
import type { PlatformJSON } from "./platform.js";

/** An OCI image manifest or Docker v2 schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime part of an image config. */
export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  [key: string]: unknown;
}

/** An image config (OCI or Docker). */
export interface ImageConfig extends Partial<PlatformJSON> {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  config?: ContainerConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  [key: string]: unknown;
}

/** A parsed manifest of either kind, with the bytes it came from. */
export type ParsedManifest =
  | { kind: "index"; mediaType: string; index: ImageIndex; bytes: Buffer; digest: Digest }
  | { kind: "image"; mediaType: string; manifest: ImageManifest; bytes: Buffer; digest: Digest };

/** The default cap on manifest size (the distribution spec suggests registries accept at least 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** The default cap on config blobs read whole into memory. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * Serialises a manifest, index or config as compact JSON. Field order is that of the object, so
 * builders in this module create objects in the canonical order; the same value always gives the
 * same bytes and digest.
 */
export function encodeJSON(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/**
 * Parses manifest bytes. The media type comes from the JSON itself, else from `declaredMediaType`
 * (a descriptor or Content-Type); a declared type that contradicts the body is refused.
 */
export function parseManifest(
  bytes: Buffer,
  declaredMediaType: string | undefined,
  context: string,
): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new PolypackError("MANIFEST_INVALID", `manifest in ${context} is not valid JSON`, { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new PolypackError("MANIFEST_INVALID", `manifest in ${context} is not a JSON object`);
  }
  const body = json as Record<string, unknown>;
  if (body["schemaVersion"] !== 2) {
    throw new PolypackError(
      "MANIFEST_UNSUPPORTED",
      `manifest in ${context} has schemaVersion ${String(body["schemaVersion"])}; only 2 is supported`,
    );
  }
  const inner = typeof body["mediaType"] === "string" ? body["mediaType"] : undefined;
  const declared = declaredMediaType?.split(";")[0]?.trim() || undefined;
  if (inner && declared && inner !== declared && isManifestLike(declared)) {
    throw new PolypackError(
      "MANIFEST_INVALID",
      `manifest in ${context} says mediaType ${inner} but was served as ${declared}`,
    );
  }
  // Old writers leave mediaType out of the body; then the descriptor's type, else the shape, decides.
  const mediaType =
    inner ??
    (declared && isManifestLike(declared)
      ? declared
      : Array.isArray(body["manifests"])
        ? MediaType.ociIndex
        : body["config"]
          ? MediaType.ociManifest
          : declared);
  const digest = Digest.of(bytes);
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(body["manifests"])) {
      throw new PolypackError("MANIFEST_INVALID", `index in ${context} has no manifests array`);
    }
    body["manifests"].forEach((d, i) => validateDescriptor(d, `${context} manifests[${i}]`));
    return { kind: "index", mediaType, index: json as ImageIndex, bytes, digest };
  }
  if (isImageMediaType(mediaType)) {
    validateDescriptor(body["config"], `${context} config`);
    if (!Array.isArray(body["layers"])) {
      throw new PolypackError("MANIFEST_INVALID", `manifest in ${context} has no layers array`);
    }
    body["layers"].forEach((d, i) => validateDescriptor(d, `${context} layers[${i}]`));
    return { kind: "image", mediaType, manifest: json as ImageManifest, bytes, digest };
  }
  throw new PolypackError(
    "MANIFEST_UNSUPPORTED",
    `${context} has unsupported media type ${String(mediaType)}`,
  );
}

function isManifestLike(mediaType: string): boolean {
  return isIndexMediaType(mediaType) || isImageMediaType(mediaType);
}

/** Builds an OCI image manifest with fields in canonical order. */
export function buildImageManifest(
  config: Descriptor,
  layers: Descriptor[],
  options: { mediaType?: string; annotations?: Record<string, string> } = {},
): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: options.mediaType ?? MediaType.ociManifest,
    config,
    layers,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
}

/** Builds an OCI image index with fields in canonical order. */
export function buildImageIndex(
  manifests: Descriptor[],
  options: { mediaType?: string; annotations?: Record<string, string> } = {},
): ImageIndex {
  return {
    schemaVersion: 2,
    mediaType: options.mediaType ?? MediaType.ociIndex,
    manifests,
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
}

/** Parses an image config blob. */
export function parseImageConfig(bytes: Buffer, context: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new PolypackError("CONFIG_INVALID", `image config in ${context} is not valid JSON`, {
      cause: error,
    });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new PolypackError("CONFIG_INVALID", `image config in ${context} is not a JSON object`);
  }
  return json as ImageConfig;
}
