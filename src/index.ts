/**
 * `polypack`: the core of the library API. OCI values (digests, platforms, descriptors, manifests),
 * the content interfaces every backend implements, and the image model: images and indexes read
 * lazily from any source, changed as values, and written to any target. Backends and buildpack
 * packaging are the subpaths `polypack/layer`, `polypack/registry`, `polypack/layout`,
 * `polypack/buildpack` and `polypack/package`.
 */

// Errors: one class with a stable code.
export { CATALOGUE, PolypackError, isPolypackError, type ErrorCode } from "./errors/index.js";

// OCI values.
export { Digest, Digester, type DigestAlgorithm } from "./oci/digest.js";
export { Platform, normalizeArchitecture, type PlatformFields, type PlatformJSON } from "./oci/platform.js";
export { MediaType, isImageMediaType, isIndexMediaType, isManifestMediaType } from "./oci/media-types.js";
export { type Descriptor, REF_NAME_ANNOTATION, descriptorFor } from "./oci/descriptor.js";
export {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  parseImageConfig,
  parseManifest,
  type ContainerConfig,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ParsedManifest,
} from "./oci/manifest.js";

// What a backend implements, and the stream it verifies its blobs with.
export type {
  ContentSource,
  ContentTarget,
  PutBlobOptions,
  PutBlobResult,
  RegistryLocation,
} from "./oci/content.js";
export {
  verifyBytes,
  verifyingStream,
  type ExpectedContent,
  type VerifyFailures,
  type VerifyOptions,
  type VerifyingStream,
} from "./oci/verify.js";

// The image model.
export {
  configPlatform,
  imageFor,
  readArtifact,
  type Artifact,
  type Image,
  type Index,
  type IndexEntry,
} from "./image/image.js";
export { bytesBlob, spooledLayer, type Blob, type Layer } from "./image/blob.js";
export { emptyImage, mutateImage, type AddedLayer, type ImageChanges } from "./image/mutate.js";
export type { HistoryEntry } from "./image/config-file.js";
export {
  editIndex,
  newIndex,
  type IndexChanges,
  type IndexOptions,
  type NewEntry,
} from "./image/index-edit.js";
export {
  write,
  writeMissing,
  type WriteCounts,
  type WriteEvent,
  type WriteOptions,
  type WriteReport,
} from "./image/write.js";

// Where images live, as a command line names them, and how to open them.
export { formatEndpoint, parseEndpoint, type Endpoint } from "./endpoints/endpoint.js";
export { openSource, openTarget, type SideOptions } from "./endpoints/open.js";
export {
  registryAccess,
  type ClientScope,
  type RegistryAccess,
  type RegistrySettings,
} from "./endpoints/registry-access.js";

// Whole operations on any source and target.
export { copy, type CopyEvent, type CopyOptions, type CopyReport } from "./image/copy.js";
export { inspect, type InspectedChild, type InspectedLayer, type InspectResult } from "./manifest/inspect.js";
export { joinImages, type JoinResult } from "./manifest/join.js";
export { polypackVersion } from "./version.js";
