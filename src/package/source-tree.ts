import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { PolypackError } from "../errors/index.js";
import { compareArchivePaths } from "../layer/paths.js";
import { onUserPath } from "../util/path-error.js";

/** One file, folder or symlink of a buildpack's source directory, as plain data. */
export interface SourceEntry {
  /** `/`-separated path relative to the buildpack directory. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits on disk (only the execute bits matter in the layer). */
  mode: number;
  /** Size in bytes of a file; 0 otherwise. */
  size: number;
  /** A symlink's target, as stored. */
  linkname?: string;
  /** `dev:ino` of a file with more than one link, so its other paths become hard links in the layer. */
  inode?: string;
}

/**
 * Lists a buildpack directory in archive order without reading any file's content. Symlinks are
 * listed, never followed. A file with several links carries its inode, so that, as pack does, the
 * layer holds it once and its other paths as hard links to the first. `skip` leaves out a path and
 * everything below it (for example an output file written inside the directory).
 */
export async function scanSourceTree(
  root: string,
  options: { skip?: (relativePath: string) => boolean } = {},
): Promise<SourceEntry[]> {
  const entries: SourceEntry[] = [];
  const walk = async (dir: string, relative: string): Promise<void> => {
    const names = (await readdir(dir)).sort(compareArchivePaths);
    for (const name of names) {
      const path = relative === "" ? name : `${relative}/${name}`;
      if (options.skip?.(path)) continue;
      const diskPath = join(dir, name);
      const stats = await lstat(diskPath);
      if (stats.isDirectory()) {
        entries.push({ path, type: "directory", mode: stats.mode & 0o7777, size: 0 });
        await walk(diskPath, path);
      } else if (stats.isSymbolicLink()) {
        entries.push({ path, type: "symlink", mode: 0o777, size: 0, linkname: await readlink(diskPath) });
      } else if (stats.isFile()) {
        entries.push({
          path,
          type: "file",
          mode: stats.mode & 0o7777,
          size: stats.size,
          ...(stats.nlink > 1 ? { inode: `${stats.dev}:${stats.ino}` } : {}),
        });
      } else {
        throw new PolypackError("LAYER_UNSUPPORTED_FILE", `${diskPath} is not a file, directory or symlink`, {
          hint: "sockets, pipes and devices cannot go into a buildpack; remove it",
        });
      }
    }
  };
  await onUserPath({ path: root, operation: "read the buildpack folder", code: "PATH_UNREADABLE" }, () =>
    walk(root, ""),
  );
  return entries;
}
