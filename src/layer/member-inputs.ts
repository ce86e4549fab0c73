import { open, type FileHandle } from "node:fs/promises";
import { PolypackError } from "../errors.js";
import type { FileRange } from "../util/hash-thread.js";
import type { HeaderOptions } from "./header.js";
import type { Segment } from "./segment-plan.js";
import type { StreamedFileEntry } from "./entry.js";
import { fileHeaderBytes, packEntries, type PreparedEntry } from "./tar-writer.js";

const BLOCK = 512;
const END_OF_ARCHIVE_BYTES = 1024;

/** The uncompressed bytes of one gzip member, and the segment they belong to. */
export interface MemberInput {
  /** The index of the segment in the layer's segment list. */
  segment: number;
  /** The index of the member within its segment. */
  position: number;
  length: number;
  /** The bytes, read; absent when the member is `vouched` for instead. */
  bytes?: Buffer;
  /** Where the bytes are, when a segment record vouches for them: they are read only if needed. */
  vouched?: VouchedBytes;
  /** The member's cache key, when a segment record gives it. */
  key?: string;
}

/**
 * The bytes of a member of a one-file segment, unread: a piece of the file's tar header, then a
 * run of the file, then zeros (the padding, and the end of the archive after the last file).
 */
export interface VouchedBytes {
  header: Buffer;
  file: FileRange;
  zeros: number;
}

/** Reads a vouched member's bytes (for compressing it when its cached member is gone). */
export async function readVouched(vouched: VouchedBytes): Promise<Buffer> {
  const handle = await open(vouched.file.path, "r");
  try {
    return await readPiece(handle, vouched);
  } finally {
    await handle.close();
  }
}

/** A member's bytes: its piece of the header, its run of the open file, then zeros. */
async function readPiece(handle: FileHandle, { header, file, zeros }: VouchedBytes): Promise<Buffer> {
  const bytes = Buffer.alloc(header.length + file.length + zeros);
  header.copy(bytes);
  let done = 0;
  while (done < file.length) {
    const at = header.length + done;
    const { bytesRead } = await handle.read(bytes, at, file.length - done, file.position + done);
    if (bytesRead === 0) {
      throw new PolypackError("LAYER_SIZE_MISMATCH", `${file.path}: shorter than expected`, {
        hint: "a file changed while the layer was being written; run again",
      });
    }
    done += bytesRead;
  }
  return bytes;
}

/**
 * How a one-file segment is cut into members, without reading the file: each member names its
 * piece of `header`, of the file and of the zeros after it (padding, and the end of the archive).
 */
export function cutSegment(
  header: Buffer,
  file: { path: string; size: number },
  endOfArchive: boolean,
  memberSize: number,
): VouchedBytes[] {
  const total = segmentLength(header.length, file.size, endOfArchive);
  const pieces: VouchedBytes[] = [];
  for (let start = 0; start < total; start += memberSize) {
    const end = Math.min(total, start + memberSize);
    const overlap = (from: number, to: number): [number, number] => [
      Math.max(start, from) - from,
      Math.max(0, Math.min(end, to) - Math.max(start, from)),
    ];
    const [headerFrom, headerLength] = overlap(0, header.length);
    const [position, fileLength] = overlap(header.length, header.length + file.size);
    pieces.push({
      header: header.subarray(headerFrom, headerFrom + headerLength),
      file: { path: file.path, position, length: fileLength },
      zeros: end - start - headerLength - fileLength,
    });
  }
  return pieces;
}

/**
 * The members of a one-file segment as a segment record's `lengths` says they are cut (see
 * cutSegment); undefined when the lengths do not fit the segment (the record is stale).
 */
export function vouchedMembers(
  header: Buffer,
  file: { path: string; size: number },
  endOfArchive: boolean,
  memberSize: number,
  lengths: readonly number[],
): VouchedBytes[] | undefined {
  const pieces = cutSegment(header, file, endOfArchive, memberSize);
  const length = ({ header: head, file: run, zeros }: VouchedBytes): number =>
    head.length + run.length + zeros;
  const fits =
    pieces.length === lengths.length && pieces.every((piece, index) => length(piece) === lengths[index]);
  return fits ? pieces : undefined;
}

/** Where to start producing member inputs: a segment, and members of it to leave out. */
export interface InputStart {
  segment: number;
  /** Members at the start of that segment that are read but not yielded. */
  skip: number;
}

/**
 * The member inputs of one segment. A segment that is one file on disk (`file` set) is read
 * straight into each member's buffer at its offset, after the header tar would write; anything
 * else goes through the tar writer.
 */
export async function* segmentInputs(
  prepared: readonly PreparedEntry[],
  segment: Segment,
  headerOptions: HeaderOptions,
  memberSize: number,
): AsyncGenerator<Buffer> {
  const onDisk = segmentFile(prepared, segment);
  if (onDisk?.entry.file !== undefined) {
    const entry = { ...onDisk.entry, file: onDisk.entry.file };
    yield* fileSegmentInputs(onDisk.path, entry, segment.endOfArchive, headerOptions, memberSize);
    return;
  }
  const entries = prepared.slice(segment.start, segment.end);
  const pieces: Buffer[] = [];
  let length = 0;
  for await (let chunk of packEntries(entries, headerOptions, segment.endOfArchive)) {
    while (length + chunk.length >= memberSize) {
      const take = memberSize - length;
      pieces.push(chunk.subarray(0, take));
      yield Buffer.concat(pieces, memberSize);
      pieces.length = 0;
      length = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      pieces.push(chunk);
      length += chunk.length;
    }
  }
  if (length > 0) yield Buffer.concat(pieces, length);
}

/** The members of a one-file segment, read from the file; its size is checked at the end. */
async function* fileSegmentInputs(
  path: string,
  entry: StreamedFileEntry & { file: string },
  endOfArchive: boolean,
  headerOptions: HeaderOptions,
  memberSize: number,
): AsyncGenerator<Buffer> {
  const header = await fileHeaderBytes(entry, path, headerOptions);
  const file = { path: entry.file, size: entry.size };
  const pieces = cutSegment(header, file, endOfArchive, memberSize);
  const handle = await open(entry.file, "r");
  try {
    for (const piece of pieces) yield await readPiece(handle, piece);
    const { size } = await handle.stat();
    if (size !== entry.size) {
      throw new PolypackError(
        "LAYER_SIZE_MISMATCH",
        `${path}: expected ${entry.size} bytes but the file has ${size}`,
        {
          hint: "a file changed while the layer was being written; run again",
        },
      );
    }
  } finally {
    await handle.close();
  }
}

/** The tar bytes of a one-file segment: header, content padded to blocks, and the end of the archive. */
function segmentLength(headerLength: number, size: number, endOfArchive: boolean): number {
  return headerLength + Math.ceil(size / BLOCK) * BLOCK + (endOfArchive ? END_OF_ARCHIVE_BYTES : 0);
}

/**
 * What vouches for each segment's content without reading it: the `identity` of its file when the
 * segment is one streamed file that has one (see StreamedFileEntry), else null.
 */
export function segmentIdentities(
  prepared: readonly PreparedEntry[],
  segments: readonly Segment[],
): (string | null)[] {
  return segments.map((segment) => segmentFile(prepared, segment)?.entry.identity ?? null);
}

/** The one streamed file a segment consists of, with its archive path; undefined for any other segment. */
export function segmentFile(
  prepared: readonly PreparedEntry[],
  segment: Segment,
): { path: string; entry: StreamedFileEntry } | undefined {
  const single = segment.end - segment.start === 1 ? prepared[segment.start] : undefined;
  const entry = single?.entry;
  return single && entry?.type === "file" && entry.content === undefined
    ? { path: single.path, entry }
    : undefined;
}
