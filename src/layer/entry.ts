import type { Readable } from "node:stream";
import type { FileIdentity } from "../util/file-identity.js";

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
  /** Owner and group ids written into the header (default 0: pack writes root for buildpack files). */
  uid?: number;
  gid?: number;
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
   * The file on disk that `open()` reads, if it is one. polypack then reads it itself, and fails the
   * layer if the file changes while it is read.
   */
  file?: string;
  /**
   * The identity (see FileIdentity) the file had when its content was verified, say against a
   * checksum. The writer refuses the file if it no longer has that identity. Needs `file`.
   */
  verified?: FileIdentity;
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
