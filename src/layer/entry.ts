import type { Readable } from "node:stream";

/** The kinds of tar entries polypack writes into layers. */
export type LayerEntryType = "file" | "directory" | "symlink" | "hardlink";

/** Opens a file's bytes only when the writer reaches it, so a layer never sits whole in memory. */
export type OpenContent = () => Readable | Promise<Readable>;

interface EntryBase {
  /** Path inside the archive, `/`-separated. A leading `/` is ignored: the writer decides. */
  path: string;
  /** Permission bits as found on disk; the writer turns them into 0755 or 0644. */
  mode?: number;
  /** Permission bits written exactly as given, bypassing normalisation. */
  exactMode?: number;
}

/** A directory. */
export interface DirectoryEntry extends EntryBase {
  type: "directory";
}

/** A symbolic link; `linkname` is written as given (absolute targets are fine). */
export interface SymlinkEntry extends EntryBase {
  type: "symlink";
  linkname: string;
}

/** A hard link to a file entry that sorts before it; `linkname` is that entry's archive path. */
export interface HardlinkEntry extends EntryBase {
  type: "hardlink";
  linkname: string;
}

/** A regular file whose content is streamed from `open()` and must be exactly `size` bytes. */
export interface StreamedFileEntry extends EntryBase {
  type: "file";
  size: number;
  open: OpenContent;
  content?: undefined;
  /**
   * Vouches for the content without reading it: a string that stays the same only while the bytes
   * do. A file in a checksum-keyed cache, say, is named by its checksum and the file's device,
   * inode, size and modification time. A layer recorded in the member cache is then recognised
   * without reading and hashing this file again; leave it unset unless it is that reliable.
   */
  identity?: string;
  /**
   * The file on disk that `open()` reads, if it is one. With an `identity`, polypack may read runs
   * of it (or have a hashing thread read them) instead of calling `open()`.
   */
  file?: string;
}

/** A small regular file held in memory (generated files such as buildpack.toml). */
export interface InlineFileEntry extends EntryBase {
  type: "file";
  content: Uint8Array | string;
  size?: undefined;
  open?: undefined;
}

/** A regular file, streamed or inline. */
export type FileEntry = StreamedFileEntry | InlineFileEntry;

/** One entry of a layer to write. */
export type LayerEntry = DirectoryEntry | SymlinkEntry | HardlinkEntry | FileEntry;

/** The size in bytes that a file entry's content will have. */
export function fileSize(entry: FileEntry): number {
  if (entry.content === undefined) return entry.size;
  return typeof entry.content === "string" ? Buffer.byteLength(entry.content) : entry.content.byteLength;
}
