import { lstat, mkdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { PolypackError } from "../errors/index.js";

// Linux's own limit on symlinks followed while resolving one name.
const MAX_LINKS = 40;

/**
 * The host path of `path` (relative, or absolute inside the image) in the root filesystem `root`,
 * resolved the way a process chrooted there would see it: symbolic links are followed inside the
 * root (an absolute target starts again at the root, `..` stops at it), so no link in the image can
 * lead out. The last component is followed only with `followLast`; with `create`, missing folders
 * on the way (the last one too, when it is followed) are made.
 */
export async function resolveInside(
  root: string,
  path: string,
  options: { followLast?: boolean; create?: boolean } = {},
): Promise<string> {
  const done: string[] = [];
  const queue = split(path);
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const last = queue.length === 0;
    const host = join(root, ...done, part);
    if (last && !options.followLast) {
      done.push(part);
      break;
    }
    const info = await lstat(host).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (info === undefined) {
      if (options.create) await mkdir(host, { mode: 0o755 });
      done.push(part);
      continue;
    }
    if (info.isSymbolicLink()) {
      if (++links > MAX_LINKS) {
        throw new PolypackError("LAYER_INVALID", `${path}: more than ${MAX_LINKS} symbolic links on the way`);
      }
      const target = await readlink(host);
      if (target.startsWith("/")) done.length = 0;
      queue.unshift(...split(target));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

function split(path: string): string[] {
  return path.split("/").filter((part) => part !== "");
}
