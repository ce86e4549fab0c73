import { Digest } from "./digest.js";
import type { PlatformJSON } from "./platform.js";
import { PolypackError } from "../errors/index.js";

/** An OCI content descriptor, exactly as it appears in JSON. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: PlatformJSON;
  artifactType?: string;
}

/** The annotation that names an image inside an OCI layout's index.json. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

/** A descriptor for some bytes. */
export function descriptorFor(mediaType: string, data: Uint8Array): Descriptor {
  return { mediaType, digest: Digest.of(data).toString(), size: data.length };
}

/**
 * Checks a descriptor read from untrusted JSON: digest syntax, a non-negative safe integer size and a
 * media type string. `context` says where it was found.
 */
export function validateDescriptor(value: unknown, context: string): Descriptor {
  const bad = (why: string): PolypackError =>
    new PolypackError("DESCRIPTOR_INVALID", `invalid descriptor in ${context}: ${why}`);
  if (typeof value !== "object" || value === null) throw bad("not an object");
  const d = value as Record<string, unknown>;
  if (typeof d["mediaType"] !== "string") throw bad("mediaType is missing");
  if (typeof d["digest"] !== "string") throw bad("digest is missing");
  Digest.parse(d["digest"], context);
  const size = d["size"];
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    throw bad("size is not a valid size");
  return value as Descriptor;
}
