// The image model: images, indexes and layers as lazy values over any content source, changed as
// values, and written to any content target.
export type { Blob, Layer } from "./blob.js";
export { sourceBlob, sourceLayer, spooledLayer, bytesBlob } from "./blob.js";
export {
  readArtifact,
  configPlatform,
  type Artifact,
  type Image,
  type Index,
  type IndexEntry,
} from "./image.js";
export { mutateImage, emptyImage, type AddedLayer, type ImageBase, type ImageChanges } from "./mutate.js";
export {
  newIndex,
  editIndex,
  indexOf,
  entryFor,
  type IndexChanges,
  type IndexOptions,
  type IndexParts,
  type NewEntry,
} from "./index-edit.js";
export { encodeConfigFile, type HistoryEntry } from "./config-file.js";
export {
  write,
  writeMissing,
  planWrite,
  type WriteCounts,
  type WriteEvent,
  type WriteOptions,
  type WritePlan,
  type WriteReport,
} from "./write.js";
export { copy, type CopyEvent, type CopyOptions, type CopyReport } from "./copy.js";
export { LayerSpool, type SpooledLayer } from "./spool.js";
