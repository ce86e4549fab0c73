// Deterministic tar+gzip layers written and read as streams.
export * from "./entry.js";
export { collectDirectory, type CollectOptions } from "./collect.js";
export {
  writeLayer,
  writeLayerFile,
  layerMediaType,
  type LayerOptions,
  type WrittenLayer,
} from "./write-layer.js";
export { putLayer, type PutLayerOptions } from "./put-layer.js";
export { readLayer, readEntryContent, type ReadLayerOptions, type LayerReadEntry } from "./read-layer.js";
export { layerMtime, normalizeMode, DEFAULT_LAYER_MTIME } from "./header.js";
export { DEFAULT_GZIP_LEVEL } from "./gzip.js";
export type { MemberStats } from "./parallel-gzip.js";
export { DEFAULT_MEMBER_SIZE, DEFAULT_SEGMENT_THRESHOLD } from "./segment-plan.js";
