import { createReadStream, type Stats } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { PolypackError } from "../errors/index.js";
import type { LayerEntry } from "./entry.js";
import { cleanArchivePath, compareArchivePaths } from "./paths.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/** Where and how a directory on disk goes into a layer. */
export interface CollectOptions {
  /** The archive path the directory's content goes under, e.g. `/cnb/buildpacks/x/1.0`. */
  prefix: string;
  /** Whether the prefix directory itself gets an entry (default true). */
  includeRoot?: boolean;
  /**
   * Leaves out a file or folder (with everything below it) when it returns false. `relativePath`
   * is `/`-separated and relative to the directory being collected.
   */
  filter?: (relativePath: string, stats: Stats) => boolean;
}

/**
 * The layer entries for a directory on disk, in archive order. Symlinks stay symlinks (never
 * followed, so nothing outside the directory is read); files that share a device and inode become
 * one file and hard links to it, their target rewritten under the same prefix. Only metadata is
 * held: file contents are opened when the layer is written.
 */
export async function collectDirectory(root: string, options: CollectOptions): Promise<LayerEntry[]> {
  const prefix = cleanArchivePath(options.prefix);
  if (prefix === undefined) {
    throw new PolypackError(
      "LAYER_PATH_INVALID",
      `layer prefix ${JSON.stringify(options.prefix)} escapes the root`,
    );
  }
  const rootStats = await stat(root).catch((error: unknown) => {
    throw new PolypackError("PATH_NOT_FOUND", `cannot read directory ${root}`, { cause: error });
  });
  if (!rootStats.isDirectory()) throw new PolypackError("PATH_NOT_FOUND", `${root} is not a directory`);

  const entries: LayerEntry[] = [];
  if (prefix !== "" && (options.includeRoot ?? true)) {
    entries.push({ path: prefix, type: "directory", mode: rootStats.mode });
  }
  const firstPathOfInode = new Map<string, string>();
  const walk = async (dir: string, relative: string): Promise<void> => {
    const names = (await readdir(dir)).sort((a, b) => compareArchivePaths(a, b));
    for (const name of names) {
      const diskPath = join(dir, name);
      const relativePath = relative === "" ? name : `${relative}/${name}`;
      const path = prefix === "" ? relativePath : `${prefix}/${relativePath}`;
      const stats = await lstat(diskPath);
      if (options.filter && !options.filter(relativePath, stats)) continue;
      if (stats.isDirectory()) {
        entries.push({ path, type: "directory", mode: stats.mode });
        await walk(diskPath, relativePath);
      } else if (stats.isSymbolicLink()) {
        entries.push({ path, type: "symlink", linkname: await readlink(diskPath), mode: stats.mode });
      } else if (stats.isFile()) {
        entries.push(fileOrHardlink(diskPath, path, stats, firstPathOfInode));
      } else {
        throw new PolypackError("LAYER_UNSUPPORTED_FILE", `${diskPath} is not a file, directory or symlink`, {
          hint: "sockets, pipes and devices cannot go into a buildpack; remove it or filter it out",
        });
      }
    }
  };
  await walk(root, "");
  return entries;
}

function fileOrHardlink(diskPath: string, path: string, stats: Stats, seen: Map<string, string>): LayerEntry {
  if (stats.nlink > 1) {
    const inode = `${stats.dev}:${stats.ino}`;
    const first = seen.get(inode);
    // The walk visits paths in archive order, so the first path seen is written first.
    if (first !== undefined) return { path, type: "hardlink", linkname: first, mode: stats.mode };
    seen.set(inode, path);
  }
  return {
    path,
    type: "file",
    size: stats.size,
    mode: stats.mode,
    open: () => createReadStream(diskPath, { highWaterMark: STREAM_CHUNK_BYTES }),
    file: diskPath,
  };
}
