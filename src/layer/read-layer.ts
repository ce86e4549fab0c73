import { extract as createExtract, type Header } from "tar-stream";
import { PolypackError } from "../errors/index.js";
import type { LayerEntryType } from "./entry.js";
import { decompressed } from "./decompress.js";
import { readArchivePath } from "./paths.js";
import { feed } from "./stream-util.js";
import { readCapped } from "../util/streams.js";

/** How to read a layer. */
export interface ReadLayerOptions {
  /** gzip, none, or auto (default): detect gzip from its magic bytes. */
  compression?: "gzip" | "none" | "auto";
  /** What to call the archive in error messages. */
  context?: string;
}

/** One entry read from a tar stream. */
export interface LayerReadEntry {
  /** The clean relative path (`.` for the root itself); never climbs out of the root. */
  path: string;
  /** The name exactly as stored, for example with a leading `/`. */
  name: string;
  /** The kind of entry; `other` for devices, fifos and the like. */
  type: LayerEntryType | "other";
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: Date;
  size: number;
  /** Symlink target as stored, or a hard link's clean archive path. */
  linkname?: string;
  /** PAX records of the entry, when it had any. */
  pax?: Record<string, string>;
  /** Where the entry's data starts in the uncompressed tar, for random access into `.cnb` files. */
  dataOffset: number;
  /** The entry's bytes; read before moving on, or they are skipped. Stopping early is safe. */
  content: AsyncIterable<Buffer>;
}

type TarSource = AsyncIterable<Uint8Array> & { header: Header; resume(): unknown };

/**
 * Iterates the entries of a (possibly gzip-compressed) tar stream, checking every path: an entry
 * or hard link target that climbs out of the root with `..` fails with PATH_ESCAPE before it is
 * handed out. Absolute symlink targets are left alone: they are resolved inside the image.
 */
export async function* readLayer(
  source: AsyncIterable<Uint8Array>,
  options: ReadLayerOptions = {},
): AsyncGenerator<LayerReadEntry> {
  const context = options.context ?? "layer";
  const extract = createExtract();
  const feeding = feed(await decompressed(source, options.compression ?? "auto"), extract);
  try {
    for await (const entry of extract as AsyncIterable<TarSource>) {
      yield toReadEntry(entry, context);
      entry.resume();
    }
  } catch (error) {
    throw asLayerError(error, context);
  } finally {
    // Stopping early must not wait for a source that may never send another chunk.
    extract.destroy();
    (source as { destroy?: () => void }).destroy?.();
    await feeding;
  }
}

// tar-stream and zlib report malformed input as plain errors (zlib's with Z_ codes); anything else,
// such as a failing file read or a digest mismatch upstream, passes through unchanged.
function asLayerError(error: unknown, context: string): unknown {
  if (error instanceof PolypackError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && !code.startsWith("Z_")) return error;
  return new PolypackError("LAYER_INVALID", `${context} is not a valid tar archive: ${error.message}`, {
    cause: error,
  });
}

/** Reads an entry's content into memory, refusing more than `maxBytes`. */
export async function readEntryContent(entry: LayerReadEntry, maxBytes: number): Promise<Buffer> {
  return readCapped(entry.content, maxBytes, {
    declaredSize: entry.size,
    tooLarge: (size) =>
      new PolypackError(
        "SIZE_EXCEEDED",
        size === undefined
          ? `${entry.path} has more than ${maxBytes} bytes`
          : `${entry.path} has ${size} bytes, more than ${maxBytes}`,
      ),
  });
}

function toReadEntry(entry: TarSource, context: string): LayerReadEntry {
  const header = entry.header;
  const cleaned = readArchivePath(header.name, context);
  const type = entryType(header.type);
  const linkname =
    type === "hardlink" ? readArchivePath(header.linkname, context) : header.linkname || undefined;
  const pax = header.pax as Record<string, string> | null | undefined;
  return {
    path: cleaned === "" ? "." : cleaned,
    name: header.name,
    type,
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    uname: header.uname,
    gname: header.gname,
    mtime: header.mtime,
    size: header.size,
    ...(linkname !== undefined ? { linkname } : {}),
    ...(pax ? { pax } : {}),
    dataOffset: (header as Header & { byteOffset: number }).byteOffset,
    content: skippableContent(entry, context),
  };
}

function entryType(type: Header["type"]): LayerEntryType | "other" {
  if (type === "file" || type === "contiguous-file") return "file";
  if (type === "link") return "hardlink";
  if (type === "directory" || type === "symlink") return type;
  return "other";
}

// tar-stream destroys the whole archive when an entry's stream is destroyed, which is what
// breaking out of a for-await loop does; resuming instead just skips the rest of the entry.
function skippableContent(entry: TarSource, context: string): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      const inner = entry[Symbol.asyncIterator]();
      return {
        next: async () => {
          try {
            return (await inner.next()) as IteratorResult<Buffer>;
          } catch (error) {
            throw asLayerError(error, context);
          }
        },
        return: () => {
          entry.resume();
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
}
