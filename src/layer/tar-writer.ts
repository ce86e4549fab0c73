import type { FileHandle } from "node:fs/promises";
import { PolypackError } from "../errors/index.js";
import type { LayerEntry, StreamedFileEntry } from "./entry.js";
import { readEntryFile, sizeMismatch, type EntryFile } from "./entry-file.js";
import { entryHeaderBytes, layerMtime, type HeaderOptions } from "./header.js";
import { compareArchivePaths, entryArchivePath } from "./paths.js";
import { END_OF_ARCHIVE, paddedLength } from "./tar-format.js";

/** How a tar stream is written. */
export interface TarOptions {
  /** Whether names begin with `/`, as pack writes them (default false). */
  absoluteNames?: boolean;
  /** The mtime of every entry (default: SOURCE_DATE_EPOCH or 1980-01-01T00:00:01Z). */
  mtime?: Date;
}

/** An entry with its clean archive path (and clean hard link target). */
export interface PreparedEntry {
  path: string;
  entry: LayerEntry;
}

/**
 * Cleans, sorts and checks entries: no duplicate paths, nothing inside a non-directory, and every
 * hard link points at a file entry written before it, so extractors can create the link. Pure, so the order can be tested alone.
 */
export function prepareEntries(entries: Iterable<LayerEntry>): PreparedEntry[] {
  const prepared: PreparedEntry[] = [];
  for (const entry of entries) {
    const path = entryArchivePath(entry.path, "layer entry");
    if (entry.type === "hardlink") {
      const linkname = entryArchivePath(entry.linkname, `hard link ${path}`);
      prepared.push({ path, entry: { ...entry, linkname } });
    } else {
      prepared.push({ path, entry });
    }
  }
  prepared.sort((a, b) => compareArchivePaths(a.path, b.path));
  const seen = new Map<string, LayerEntry>();
  for (const { path, entry } of prepared) {
    if (seen.has(path)) {
      throw new PolypackError("LAYER_DUPLICATE_PATH", `two layer entries have the path ${path}`);
    }
    const blocker = ancestorsOf(path).find((ancestor) => {
      const type = seen.get(ancestor)?.type;
      return type !== undefined && type !== "directory";
    });
    if (blocker !== undefined) {
      throw new PolypackError(
        "LAYER_ENTRY_INVALID",
        `${path} is inside ${blocker}, which is not a directory`,
      );
    }
    if (entry.type === "hardlink" && seen.get(entry.linkname)?.type !== "file") {
      throw new PolypackError(
        "LAYER_ENTRY_INVALID",
        `hard link ${path} points at ${entry.linkname}, which is not a file written before it`,
      );
    }
    seen.set(path, entry);
  }
  return prepared;
}

function ancestorsOf(path: string): string[] {
  const segments = path.split("/");
  return segments.slice(1).map((_segment, i) => segments.slice(0, i + 1).join("/"));
}

/** The header options a tar is written with: the caller's choices with their defaults filled in. */
export function tarHeaderOptions(options: TarOptions = {}): HeaderOptions {
  return {
    absoluteNames: options.absoluteNames ?? false,
    mtime: options.mtime ?? layerMtime(),
  };
}

/**
 * A deterministic tar stream of the entries: sorted by path, root ownership, fixed mtime,
 * normalised modes. File contents are opened one at a time as the consumer reads, so memory stays
 * flat whatever the sizes. Stopping early closes any open file.
 */
export async function* tarStream(
  entries: Iterable<LayerEntry>,
  options: TarOptions = {},
): AsyncGenerator<Buffer> {
  yield* packEntries(prepareEntries(entries), tarHeaderOptions(options), true);
}

/**
 * The tar bytes of a run of prepared entries, in the given order. Without `endOfArchive` the two
 * closing zero blocks are left off, so consecutive runs concatenate into exactly the archive one
 * run over all the entries would give.
 */
export async function* packEntries(
  prepared: readonly PreparedEntry[],
  headerOptions: HeaderOptions,
  endOfArchive: boolean,
): AsyncGenerator<Buffer> {
  for (const { path, entry } of prepared) {
    yield entryHeaderBytes(entry, path, headerOptions);
    if (entry.type !== "file") continue;
    if (entry.content !== undefined) {
      const content = Buffer.from(entry.content);
      yield content;
      yield padding(content.length);
    } else {
      yield* streamedContent(entry, path);
      yield padding(entry.size);
    }
  }
  if (endOfArchive) yield END_OF_ARCHIVE;
}

// Each of the two buffers writeTar copies files through.
const COPY_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Writes the tar of the entries (the bytes tarStream gives) into `out`, at its current position.
 * Files on disk are copied through two buffers allocated once, the read of one overlapping the
 * write of the other, and checked as tarStream checks them (EntryFile); entries with other
 * sources go through packEntries. For big archives of big files (a `.cnb` of a layout) this costs
 * a fraction of the CPU and garbage of a stream of fresh chunks.
 */
export async function writeTar(
  out: FileHandle,
  entries: Iterable<LayerEntry>,
  options: TarOptions = {},
): Promise<void> {
  const headerOptions = tarHeaderOptions(options);
  const buffers: CopyBuffers = {
    filling: Buffer.allocUnsafe(COPY_BUFFER_BYTES),
    spare: Buffer.allocUnsafe(COPY_BUFFER_BYTES),
  };
  for (const prepared of prepareEntries(entries)) {
    const { path, entry } = prepared;
    if (entry.type !== "file" || entry.content !== undefined || entry.file === undefined) {
      for await (const bytes of packEntries([prepared], headerOptions, false)) await writeAll(out, bytes);
      continue;
    }
    await writeAll(out, entryHeaderBytes(entry, path, headerOptions));
    // readEntryFile opens and checks the file, and checks it again once the copy is done.
    const copying = readEntryFile(path, { ...entry, file: entry.file }, (file) =>
      copyFile(file, entry.size, out, buffers),
    );
    for await (const _written of copying) {
      // The copy writes as it reads; what it yields is only its progress.
    }
    await writeAll(out, padding(entry.size));
  }
  await writeAll(out, END_OF_ARCHIVE);
}

/** The two buffers writeTar copies through, swapped as one fills while the other is written. */
interface CopyBuffers {
  filling: Buffer;
  spare: Buffer;
}

/**
 * Copies `size` bytes of `file` into `out`, reading the next piece while the last one is written;
 * yields the bytes written so far after each piece.
 */
async function* copyFile(
  file: EntryFile,
  size: number,
  out: FileHandle,
  buffers: CopyBuffers,
): AsyncGenerator<number> {
  let position = 0;
  let reading = readChunk(file, buffers.filling, position, size);
  while (position < size) {
    const length = await reading;
    const full = buffers.filling;
    position += length;
    [buffers.filling, buffers.spare] = [buffers.spare, full];
    reading = readChunk(file, buffers.filling, position, size);
    // A failed write leaves a read in flight; it is settled before the file is closed.
    await writeAll(out, full.subarray(0, length)).catch(async (error: unknown) => {
      await reading.catch(() => undefined);
      throw error;
    });
    yield position;
  }
  await reading;
}

/** Reads the next piece of a file (0 bytes once `size` is reached) into `buffer`. */
async function readChunk(file: EntryFile, buffer: Buffer, position: number, size: number): Promise<number> {
  const length = Math.min(buffer.length, size - position);
  if (length > 0) await file.readInto(buffer, 0, length, position);
  return length;
}

/** Writes all of `bytes` at the file's current position. */
async function writeAll(out: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await out.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/** The zeros that fill a file's last block. */
function padding(size: number): Buffer {
  return Buffer.alloc(paddedLength(size) - size);
}

/**
 * A streamed file's bytes, exactly `size` of them, or LAYER_SIZE_MISMATCH. A file on disk is read
 * through EntryFile, which also fails when it changes while it is read.
 */
async function* streamedContent(entry: StreamedFileEntry, path: string): AsyncGenerator<Buffer> {
  if (entry.file !== undefined) {
    yield* readEntryFile(path, { ...entry, file: entry.file }, (file) => file.chunks());
    return;
  }
  const source = await entry.open();
  try {
    let written = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (written + chunk.length > entry.size) {
        written += chunk.length;
        break;
      }
      written += chunk.length;
      yield chunk;
    }
    if (written !== entry.size) throw sizeMismatch(path, entry.size, written);
  } finally {
    source.destroy();
  }
}
