import { PolypackError } from "../errors/index.js";
import { fileSize } from "./entry.js";
import type { PreparedEntry } from "./tar-writer.js";

const MiB = 1024 * 1024;
const BLOCK = 512;

/** Files at least this big get a segment of their own; smaller layers stay one gzip member. */
export const DEFAULT_SEGMENT_THRESHOLD = 4 * MiB;
/** The most uncompressed bytes one gzip member holds; longer segments are cut into several. */
export const DEFAULT_MEMBER_SIZE = 8 * MiB;
const MIN_MEMBER_SIZE = 64 * 1024;
const MAX_MEMBER_SIZE = 1024 * MiB;
// A group of small entries may end once it holds a quarter of the threshold, but only after an
// anchor entry (one path in ANCHOR_ODDS), so a file that grows or shrinks moves no later boundary.
const GROUP_MIN_FRACTION = 4;
const ANCHOR_ODDS = 16;

/** How a layer's tar is cut into gzip members. Both values are part of the layer's format. */
export interface Segmentation {
  /** Files of at least this many bytes are segments of their own (default 4 MiB). */
  segmentThreshold: number;
  /** Uncompressed bytes per gzip member at most (default 8 MiB). */
  memberSize: number;
}

/** A run of consecutive prepared entries, `entries[start, end)`, compressed apart from the rest. */
export interface Segment {
  start: number;
  end: number;
  /** Whether the tar's closing zero blocks follow this segment's entries (the last one only). */
  endOfArchive: boolean;
}

/** Fills in the defaults and refuses values that would give a nonsensical or huge member. */
export function segmentation(options: Partial<Segmentation> = {}): Segmentation {
  const segmentThreshold = options.segmentThreshold ?? DEFAULT_SEGMENT_THRESHOLD;
  const memberSize = options.memberSize ?? DEFAULT_MEMBER_SIZE;
  if (Number.isNaN(segmentThreshold) || segmentThreshold < 0) {
    throw new PolypackError("LAYER_OPTIONS_INVALID", `segment threshold ${segmentThreshold} is invalid`, {
      hint: "use a number of bytes, 0 or more (Infinity keeps every layer in one segment)",
    });
  }
  if (!Number.isInteger(memberSize) || memberSize < MIN_MEMBER_SIZE || memberSize > MAX_MEMBER_SIZE) {
    throw new PolypackError("LAYER_OPTIONS_INVALID", `gzip member size ${memberSize} is invalid`, {
      hint: `use a whole number of bytes from ${MIN_MEMBER_SIZE} to ${MAX_MEMBER_SIZE}`,
    });
  }
  return { segmentThreshold, memberSize };
}

/**
 * Cuts prepared entries (already in archive order) into segments. The cut depends only on the
 * entries' paths, types and sizes, never on timing: a file of at least `threshold` bytes is a
 * segment alone; runs of smaller entries form groups that end at an anchor path once they hold a
 * quarter of the threshold, or anywhere once they hold the threshold. A layer whose tar is smaller
 * than the threshold is one segment, so small layers keep the single-member format.
 */
export function planSegments(prepared: readonly PreparedEntry[], threshold: number): Segment[] {
  if (prepared.length === 0 || isSmallLayer(prepared, threshold)) {
    return [{ start: 0, end: prepared.length, endOfArchive: true }];
  }
  const segments: Segment[] = [];
  const close = (start: number, end: number): void => {
    if (end > start) segments.push({ start, end, endOfArchive: false });
  };
  let groupStart = 0;
  let groupBytes = 0;
  for (const [index, { path, entry }] of prepared.entries()) {
    if (entry.type === "file" && fileSize(entry) >= threshold) {
      close(groupStart, index);
      close(index, index + 1);
      groupStart = index + 1;
      groupBytes = 0;
      continue;
    }
    groupBytes += tarFootprint(entry);
    const atAnchor = groupBytes >= threshold / GROUP_MIN_FRACTION && isAnchor(path);
    if (groupBytes >= threshold || atAnchor) {
      close(groupStart, index + 1);
      groupStart = index + 1;
      groupBytes = 0;
    }
  }
  close(groupStart, prepared.length);
  segments[segments.length - 1]!.endOfArchive = true;
  return segments;
}

/**
 * Whether the layer's tar is smaller than the segment threshold: such a layer is one segment and
 * one member, compressed whatever it holds, so it is byte for byte what one zlib stream (and pack)
 * would write.
 */
export function isSmallLayer(prepared: readonly PreparedEntry[], threshold: number): boolean {
  return prepared.reduce((sum, { entry }) => sum + tarFootprint(entry), 2 * BLOCK) < threshold;
}

/** The bytes an entry takes in a ustar archive: a header block and its content padded to blocks. */
export function tarFootprint(entry: PreparedEntry["entry"]): number {
  const content = entry.type === "file" ? fileSize(entry) : 0;
  return BLOCK + Math.ceil(content / BLOCK) * BLOCK;
}

/** Whether a path ends a group: FNV-1a of its UTF-8 bytes, one path in ANCHOR_ODDS. */
export function isAnchor(path: string): boolean {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(path, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % ANCHOR_ODDS === 0;
}
