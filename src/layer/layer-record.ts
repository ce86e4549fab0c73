import { createHash } from "node:crypto";
import { tarHeaderFor, type HeaderOptions } from "./header.js";
import type { MemberLog } from "./parallel-gzip.js";
import type { Segment } from "./segment-plan.js";
import type { PreparedEntry } from "./tar-writer.js";

// Part of the signature, so records of another shape are never matched.
const RECORD_FORMAT = 2;
const HEX_64 = /^[0-9a-f]{64}$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * What the member cache remembers about a layer written through it: the members that made it, in
 * order, and its digests. When every member of a later write has the same key, the tar and the
 * blob are the same bytes, so the digests are known without hashing them again.
 */
export interface LayerRecord extends MemberLog {
  /** The segment of each member (an index into the layer's segments). */
  segments: number[];
  /** Per segment, the identity of its one file when it has one (see segmentIdentities), else null. */
  identities: (string | null)[];
  diffID: string;
  digest: string;
  size: number;
  uncompressedSize: number;
}

/**
 * A hash (hex) of everything that shapes a layer's tar except the file contents: every entry's
 * header in order, the segments, the member size and the level. Contents are checked member by
 * member against the record's keys.
 */
export function layerSignature(
  prepared: readonly PreparedEntry[],
  headerOptions: HeaderOptions,
  segments: readonly Segment[],
  memberSize: number,
  level: number,
): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ format: RECORD_FORMAT, level, memberSize, segments }));
  for (const { entry, path } of prepared) {
    hash.update(`\n${JSON.stringify(tarHeaderFor(entry, path, headerOptions))}`);
  }
  return hash.digest("hex");
}

/** A record read back from the cache, or undefined when there is none or it is malformed. */
export function parseRecord(text: string | undefined): LayerRecord | undefined {
  const value = jsonFields<LayerRecord>(text);
  if (value === undefined) return undefined;
  const { keys, lengths, crcs, segments, identities, diffID, digest, size, uncompressedSize } = value;
  const wellFormed =
    isKeyList(keys) &&
    counts(lengths) &&
    counts(crcs) &&
    lengths.length === keys.length &&
    crcs.length === keys.length &&
    counts(segments) &&
    segments.length === keys.length &&
    segments.every((segment, index) => index === 0 || segment >= segments[index - 1]!) &&
    Array.isArray(identities) &&
    identities.every((identity) => identity === null || typeof identity === "string") &&
    segments.every((segment) => segment < identities.length) &&
    typeof diffID === "string" &&
    SHA256_DIGEST.test(diffID) &&
    typeof digest === "string" &&
    SHA256_DIGEST.test(digest) &&
    counts([size, uncompressedSize]);
  return wellFormed ? (value as LayerRecord) : undefined;
}

/** The record of a layer just written and hashed. */
export function encodeRecord(log: MemberLog, layer: Omit<LayerRecord, keyof MemberLog>): string {
  const { keys, lengths, crcs } = log;
  const { segments, identities, diffID, digest, size, uncompressedSize } = layer;
  return JSON.stringify({
    keys,
    lengths,
    crcs,
    segments,
    identities,
    diffID,
    digest,
    size,
    uncompressedSize,
  });
}

/** The members of `segment` in a record: [first, end) indexes (empty when it has none). */
export function recordedMembers(record: LayerRecord, segment: number): { first: number; end: number } {
  const first = record.segments.indexOf(segment);
  if (first < 0) return { first: 0, end: 0 };
  let end = first;
  while (record.segments[end] === segment) end++;
  return { first, end };
}

/**
 * What the cache remembers about a segment that is one file vouched for by its identity (see
 * StreamedFileEntry): the keys and lengths of its members. A layer that holds the same file under
 * the same header then knows those members' keys without hashing them, even when the rest of the
 * layer changed.
 */
export interface SegmentRecord {
  keys: string[];
  lengths: number[];
}

/**
 * A hash (hex) of everything that makes a one-file segment's members: the file's header and
 * identity, whether the archive ends after it, the member size and the level.
 */
export function segmentSignature(
  entry: PreparedEntry,
  identity: string,
  headerOptions: HeaderOptions,
  endOfArchive: boolean,
  memberSize: number,
  level: number,
): string {
  const header = tarHeaderFor(entry.entry, entry.path, headerOptions);
  const shape = { format: RECORD_FORMAT, level, memberSize, endOfArchive, identity, header };
  return createHash("sha256").update(JSON.stringify(shape)).digest("hex");
}

/** A segment record read back from the cache, or undefined when there is none or it is malformed. */
export function parseSegmentRecord(text: string | undefined): SegmentRecord | undefined {
  const value = jsonFields<SegmentRecord>(text);
  if (value === undefined) return undefined;
  const { keys, lengths } = value;
  const wellFormed =
    isKeyList(keys) &&
    keys.length > 0 &&
    counts(lengths) &&
    lengths.length === keys.length &&
    lengths.every((length) => length > 0);
  return wellFormed ? { keys, lengths } : undefined;
}

/** The fields of a JSON object in `text`, unchecked; undefined for no text or text that is not JSON. */
function jsonFields<T>(text: string | undefined): Partial<Record<keyof T, unknown>> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a value is a list of member cache keys (64 hex digits each). */
function isKeyList(list: unknown): list is string[] {
  return Array.isArray(list) && list.every((key) => typeof key === "string" && HEX_64.test(key));
}

/** Whether a value is a list of whole numbers of 0 or more. */
function counts(list: unknown): list is number[] {
  return Array.isArray(list) && list.every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}
