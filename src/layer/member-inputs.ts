import type { StreamedFileEntry } from "./entry.js";
import { readEntryFile } from "./entry-file.js";
import { entryHeaderBytes, type HeaderOptions } from "./header.js";
import type { Segment } from "./segment-plan.js";
import { END_OF_ARCHIVE, paddedLength } from "./tar-format.js";
import { packEntries, type PreparedEntry } from "./tar-writer.js";

/** How a layer's tar is cut into member inputs. */
export interface MemberInputSettings {
  headerOptions: HeaderOptions;
  memberSize: number;
}

/**
 * Every member's input, segment by segment: the layer's tar, cut at segment boundaries and every
 * `memberSize` bytes within a segment. Concatenated, the inputs are exactly the tar.
 */
export async function* memberInputs(
  prepared: readonly PreparedEntry[],
  segments: readonly Segment[],
  settings: MemberInputSettings,
): AsyncGenerator<Buffer> {
  for (const segment of segments) yield* segmentInputs(prepared, segment, settings);
}

/**
 * The member inputs of one segment. A segment that is one file on disk (`file` set) is read
 * straight into each member's buffer at its offset, after its header; anything else goes through
 * the tar writer.
 */
async function* segmentInputs(
  prepared: readonly PreparedEntry[],
  segment: Segment,
  { headerOptions, memberSize }: MemberInputSettings,
): AsyncGenerator<Buffer> {
  const onDisk = segmentFile(prepared, segment);
  if (onDisk?.entry.file !== undefined) {
    const header = entryHeaderBytes(onDisk.entry, onDisk.path, headerOptions);
    const entry = { ...onDisk.entry, file: onDisk.entry.file };
    yield* fileSegmentInputs(onDisk.path, entry, header, segment, memberSize);
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

/** The members of a one-file segment, read from the file (see EntryFile for the checks). */
async function* fileSegmentInputs(
  path: string,
  entry: StreamedFileEntry & { file: string },
  header: Buffer,
  segment: Segment,
  memberSize: number,
): AsyncGenerator<Buffer> {
  const pieces = cutSegment(header, entry.size, segment.endOfArchive, memberSize);
  yield* readEntryFile(path, entry, async function* (file) {
    for (const piece of pieces) {
      const bytes = Buffer.alloc(piece.header.length + piece.length + piece.zeros);
      piece.header.copy(bytes);
      await file.readInto(bytes, piece.header.length, piece.length, piece.position);
      yield bytes;
    }
  });
}

/** One member of a one-file segment: its piece of the header, a run of the file, then zeros. */
interface SegmentPiece {
  header: Buffer;
  /** Where the run starts in the file, and its length. */
  position: number;
  length: number;
  /** Zeros after the run: the padding, and the end of the archive after the last file. */
  zeros: number;
}

/**
 * How a one-file segment (header, content padded to blocks, and the end of the archive when it
 * is the last) is cut into members of `memberSize` bytes, without reading the file.
 */
function cutSegment(header: Buffer, size: number, endOfArchive: boolean, memberSize: number): SegmentPiece[] {
  const total = header.length + paddedLength(size) + (endOfArchive ? END_OF_ARCHIVE.length : 0);
  const pieces: SegmentPiece[] = [];
  for (let start = 0; start < total; start += memberSize) {
    const end = Math.min(total, start + memberSize);
    const overlap = (from: number, to: number): [number, number] => [
      Math.max(start, from) - from,
      Math.max(0, Math.min(end, to) - Math.max(start, from)),
    ];
    const [headerFrom, headerLength] = overlap(0, header.length);
    const [position, length] = overlap(header.length, header.length + size);
    pieces.push({
      header: header.subarray(headerFrom, headerFrom + headerLength),
      position,
      length,
      zeros: end - start - headerLength - length,
    });
  }
  return pieces;
}

/** The one streamed file a segment consists of, with its archive path; undefined for any other segment. */
function segmentFile(
  prepared: readonly PreparedEntry[],
  segment: Segment,
): { path: string; entry: StreamedFileEntry } | undefined {
  const single = segment.end - segment.start === 1 ? prepared[segment.start] : undefined;
  const entry = single?.entry;
  return single && entry?.type === "file" && entry.content === undefined
    ? { path: single.path, entry }
    : undefined;
}
