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
 * The members of a one-file segment as `lengths` (from a segment record) says they are cut,
 * without reading the file: each names its piece of `header`, of the file and of the zeros after
 * it. Undefined when the lengths do not fit the segment (the record is stale).
 */
export function vouchedMembers(
  header: Buffer,
  file: { path: string; size: number },
  endOfArchive: boolean,
  memberSize: number,
  lengths: readonly number[],
): VouchedBytes[] | undefined {
  const total = segmentLength(header.length, file.size, endOfArchive);
  const fits = lengths.every((length, index) => length === Math.min(memberSize, total - index * memberSize));
  if (!fits || lengths.length !== Math.ceil(total / memberSize)) return undefined;
  return lengths.map((length, index) => {
    const start = index * memberSize;
    const end = start + length;
    const overlap = (from: number, to: number): [number, number] => [
      Math.max(start, from) - from,
      Math.max(0, Math.min(end, to) - Math.max(start, from)),
    ];
    const [headerFrom, headerLength] = overlap(0, header.length);
    const [position, fileLength] = overlap(header.length, header.length + file.size);
    return {
      header: header.subarray(headerFrom, headerFrom + headerLength),
      file: { path: file.path, position, length: fileLength },
      zeros: length - headerLength - fileLength,
    };
  });
}

/** Where to start producing member inputs: a segment, and members of it to leave out. */
export interface InputStart {
  segment: number;
  /** Members at the start of that segment that are read but not yielded. */
  skip: number;
  /** Only that segment, not the ones after it. */
  only?: boolean;
}

/**
 * The uncompressed bytes of every gzip member of a layer, in archive order: each segment's tar is
 * produced on its own and cut every `memberSize` bytes. Joined, the pieces are exactly the tar one
 * pass over all entries would give. Only the piece being filled is held in memory; file contents
 * are read as the consumer asks for the next piece. `from` starts later in the layer.
 */
export async function* memberInputs(
  prepared: readonly PreparedEntry[],
  segments: readonly Segment[],
  headerOptions: HeaderOptions,
  memberSize: number,
  from: InputStart = { segment: 0, skip: 0 },
): AsyncGenerator<MemberInput> {
  const end = from.only ? from.segment + 1 : segments.length;
  for (let segment = from.segment; segment < end; segment++) {
    const skip = segment === from.segment ? from.skip : 0;
    let position = 0;
    for await (const bytes of segmentInputs(prepared, segments[segment]!, headerOptions, memberSize)) {
      if (position >= skip) yield { segment, position, length: bytes.length, bytes };
      position++;
    }
  }
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
  const single = segment.end - segment.start === 1 ? prepared[segment.start] : undefined;
  const entry = single?.entry;
  if (single && entry?.type === "file" && entry.content === undefined && entry.file !== undefined) {
    const onDisk = { ...entry, file: entry.file };
    yield* fileSegmentInputs(single.path, onDisk, segment.endOfArchive, headerOptions, memberSize);
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
  const pieces = vouchedMembers(
    header,
    file,
    endOfArchive,
    memberSize,
    memberLengths(header.length, file.size, endOfArchive, memberSize),
  );
  const handle = await open(entry.file, "r");
  try {
    for (const piece of pieces ?? []) yield await readPiece(handle, piece);
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

/** How a one-file segment of this shape is cut into members. */
function memberLengths(
  headerLength: number,
  size: number,
  endOfArchive: boolean,
  memberSize: number,
): number[] {
  const total = segmentLength(headerLength, size, endOfArchive);
  const lengths: number[] = [];
  for (let at = 0; at < total; at += memberSize) lengths.push(Math.min(memberSize, total - at));
  return lengths;
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
  return segments.map(({ start, end }) => {
    const entry = end - start === 1 ? prepared[start]?.entry : undefined;
    return entry?.type === "file" && entry.content === undefined ? (entry.identity ?? null) : null;
  });
}
