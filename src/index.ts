/**
 * polypack's library API: OCI values (digests, platforms, descriptors, manifests), deterministic
 * layers, OCI layouts and .cnb files, the registry client and the generic copy between them.
 */
export { CATALOGUE, PolypackError, isPolypackError, type ErrorCode } from "./errors/index.js";
export { Digest, Digester, type DigestAlgorithm } from "./oci/digest.js";
export * from "./oci/media-types.js";
export { type Descriptor, REF_NAME_ANNOTATION, descriptorFor, validateDescriptor } from "./oci/descriptor.js";
export { Platform, normalizeArchitecture, type PlatformJSON } from "./oci/platform.js";
export * from "./oci/manifest.js";
export type * from "./oci/content.js";
export { verifyingStream, verifyBytes } from "./oci/verify.js";
export * from "./image/index.js";
export { parseEndpoint, formatEndpoint, type Endpoint } from "./endpoints/endpoint.js";
export { inspect, type InspectResult } from "./manifest/inspect.js";
export * from "./layer/index.js";
export * from "./layout/index.js";
export * from "./registry/index.js";
export * from "./registry/credentials/index.js";
export * from "./buildpack/index.js";
export * from "./dependencies/index.js";
export * from "./package/index.js";
export { polypackVersion } from "./version.js";
