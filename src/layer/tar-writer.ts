import { pack as createPack, type Pack } from "tar-stream";
import { paddedDataSize, withGoHeaders } from "./go-headers.js";
import { PolypackError } from "../errors.js";
import type { LayerEntry, StreamedFileEntry } from "./entry.js";
import { layerMtime, tarHeaderFor, type HeaderOptions, type TarHeader } from "./header.js";
import { compareArchivePaths, entryArchivePath } from "./paths.js";
import { drained } from "./stream-util.js";

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
  const headerOptions = tarHeaderOptions(options);
  yield* packEntries(prepareEntries(entries), headerOptions, true);
}

const BLOCK = 512;
const PAX_TYPEFLAG = 0x78; // "x"
const TYPEFLAG_OFFSET = 156;

/**
 * The tar bytes that come before a file entry's content (its header, and the PAX header before it
 * when one is needed), exactly as packEntries writes them, without reading the file.
 */
export async function fileHeaderBytes(
  entry: StreamedFileEntry,
  path: string,
  options: HeaderOptions,
): Promise<Buffer> {
  const pack = createPack();
  // The content never comes: only the header is wanted, and the pack is destroyed after it.
  pack.entry(tarHeaderFor(entry, path, options)).on("error", () => undefined);
  const pieces: Buffer[] = [];
  let length = 0;
  let expected = BLOCK;
  const iterator = (pack as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    while (length < expected) {
      const next = await iterator.next();
      if (next.done) throw new Error(`tar header of ${path} ended early`);
      pieces.push(next.value);
      length += next.value.length;
      const first = pieces[0]!;
      if (expected === BLOCK && length >= BLOCK && first[TYPEFLAG_OFFSET] === PAX_TYPEFLAG) {
        // A PAX header: its records, then the file's own header.
        expected = BLOCK + paddedDataSize(first.subarray(0, BLOCK)) + BLOCK;
      }
    }
  } finally {
    pack.destroy();
  }
  const raw = Buffer.concat(pieces, length);
  const rewritten: Buffer[] = [];
  for await (const chunk of withGoHeaders([raw.subarray(0, expected)])) rewritten.push(chunk);
  return Buffer.concat(rewritten, expected);
}

/** The size of the two zero blocks tar-stream writes when an archive is finalised. */
const END_OF_ARCHIVE_BYTES = 1024;

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
  const pack = createPack();
  const producing = writeEntries(pack, prepared, headerOptions).then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  try {
    const chunks = withGoHeaders(pack as AsyncIterable<Buffer>);
    yield* endOfArchive ? chunks : withoutLastBytes(chunks, END_OF_ARCHIVE_BYTES);
  } finally {
    pack.destroy();
    await producing;
  }
}

/** Everything but the last `count` bytes of a stream. */
async function* withoutLastBytes(source: AsyncIterable<Buffer>, count: number): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  for await (const chunk of source) {
    held.push(chunk);
    heldBytes += chunk.length;
    while (held.length > 1 && heldBytes - held[0]!.length >= count) {
      const first = held.shift()!;
      heldBytes -= first.length;
      yield first;
    }
  }
  let keep = heldBytes - count;
  for (const chunk of held) {
    if (keep <= 0) break;
    yield chunk.subarray(0, keep);
    keep -= chunk.length;
  }
}

async function writeEntries(
  pack: Pack,
  prepared: readonly PreparedEntry[],
  options: HeaderOptions,
): Promise<void> {
  for (const { path, entry } of prepared) {
    const header = tarHeaderFor(entry, path, options);
    if (entry.type !== "file") {
      await addEntry(pack, header);
    } else if (entry.content !== undefined) {
      await addEntry(pack, header, Buffer.from(entry.content));
    } else {
      await addStreamedEntry(pack, header, entry, path);
    }
  }
}

function addEntry(pack: Pack, header: TarHeader, content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (content === undefined) pack.entry(header, done);
    else pack.entry(header, content, done);
  });
}

async function addStreamedEntry(
  pack: Pack,
  header: TarHeader,
  entry: StreamedFileEntry,
  path: string,
): Promise<void> {
  let sink!: ReturnType<Pack["entry"]>;
  const finished = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
  });
  // Failures reach us through the entry callback and the pack stream; without a listener the
  // entry's own error event would be an uncaught exception.
  sink.on("error", () => undefined);
  finished.catch(() => undefined);
  const source = await entry.open();
  try {
    let written = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > entry.size) break;
      if (!sink.write(chunk)) await drained(sink);
    }
    if (written !== entry.size) {
      throw new PolypackError(
        "LAYER_SIZE_MISMATCH",
        `${path}: expected ${entry.size} bytes but ${written > entry.size ? "got more" : `got ${written}`}`,
        { hint: "a file changed while the layer was being written; run again" },
      );
    }
    sink.end(undefined);
  } catch (error) {
    sink.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    source.destroy();
  }
  await finished;
}
