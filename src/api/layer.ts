/**
 * `polypack/layer`: deterministic tar+gzip layers, written and read as streams. The same entries
 * give the same bytes (and digests) on every machine.
 */
export type {
  DirectoryEntry,
  FileEntry,
  HardlinkEntry,
  InlineFileEntry,
  LayerEntry,
  LayerEntryType,
  OpenContent,
  StreamedFileEntry,
  SymlinkEntry,
} from "../layer/entry.js";
export { collectDirectory, type CollectOptions } from "../layer/collect.js";
export {
  layerMediaType,
  writeLayer,
  writeLayerFile,
  type LayerOptions,
  type WrittenLayer,
} from "../layer/write-layer.js";
export type { MemberStats } from "../layer/parallel-gzip.js";
export { putLayer, type PutLayerOptions } from "../layer/put-layer.js";
export {
  readEntryContent,
  readLayer,
  type LayerReadEntry,
  type ReadLayerOptions,
} from "../layer/read-layer.js";
export { DEFAULT_LAYER_MTIME, layerMtime } from "../layer/header.js";
export { DEFAULT_GZIP_LEVEL } from "../layer/gzip.js";
export { DEFAULT_MEMBER_SIZE, DEFAULT_SEGMENT_THRESHOLD } from "../layer/segment-plan.js";
