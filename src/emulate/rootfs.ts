import { createWriteStream } from "node:fs";
import { chmod, link, lstat, mkdir, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import type { Image } from "../image/image.js";
import { readLayer, type LayerReadEntry } from "../layer/read-layer.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
import { resolveInside } from "./inside.js";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
/** The file that marks a complete root filesystem in the cache. */
export const ROOTFS_MARKER = ".polypack-rootfs.json";

/**
 * The root filesystem of `image` in `cacheDir`, keyed by the manifest digest: made once (layers
 * applied in order, each checked against its digest as it is read), then reused. It is built in a
 * temporary folder and renamed into place, so an entry that exists with its marker is complete.
 */
export async function cachedRootfs(
  image: Image,
  cacheDir: string,
): Promise<{ path: string; reused: boolean }> {
  const digest = (await image.descriptor()).digest;
  const path = join(cacheDir, digest.replace(":", "-"));
  if (await exists(join(path, ROOTFS_MARKER))) return { path, reused: true };
  await mkdir(cacheDir, { recursive: true });
  const temp = tempPathBeside(path);
  try {
    await mkdir(temp, { mode: 0o755 });
    await applyLayers(image, temp);
    await writeFile(join(temp, ROOTFS_MARKER), JSON.stringify({ image: digest }) + "\n");
    if (!(await moveInto(temp, path))) {
      // Another run made the same entry meanwhile: use theirs.
      if (await exists(join(path, ROOTFS_MARKER))) return { path, reused: true };
      // A folder without the marker was not made by polypack (entries appear whole, marker
      // included): it is not trusted, but moved aside and replaced.
      const aside = tempPathBeside(path);
      try {
        await rename(path, aside);
        await removeTree(aside);
      } finally {
        forgetTemp(aside);
      }
      if (!(await moveInto(temp, path))) throw new Error(`${path} appeared again while it was replaced`);
    }
    return { path, reused: false };
  } finally {
    await removeTree(temp);
    forgetTemp(temp);
  }
}

// Renames a finished folder into place; false when something is already there.
async function moveInto(temp: string, path: string): Promise<boolean> {
  try {
    await rename(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return false;
    throw error;
  }
}

/** Applies every layer of `image`, in order, to the folder `root`. */
export async function applyLayers(image: Image, root: string): Promise<void> {
  for (const layer of await image.layers()) {
    const context = `layer ${layer.descriptor.digest}`;
    await applyLayer(readLayer(await layer.open(), { context }), root);
  }
}

/**
 * Applies one layer's entries to `root` as a container runtime does: `.wh.NAME` removes NAME,
 * `.wh..wh..opq` empties its folder of what earlier layers put there, anything else replaces what
 * was at its path. Every path is resolved inside the root (see resolveInside); devices and FIFOs are
 * skipped, set-id bits dropped, and folders kept writable by their owner so later layers can add to
 * them.
 */
export async function applyLayer(entries: AsyncIterable<LayerReadEntry>, root: string): Promise<void> {
  const written = new Set<string>();
  for await (const entry of entries) {
    if (entry.path === ".") continue;
    const name = basename(entry.path);
    const parentPath = dirname(entry.path);
    const parent = await resolveInside(root, parentPath, { followLast: true, create: true });
    if (name === OPAQUE) {
      await emptyFolder(parent, entry.path === OPAQUE ? "" : parentPath, written);
      continue;
    }
    if (name.startsWith(WHITEOUT)) {
      await removeTree(join(parent, name.slice(WHITEOUT.length)));
      continue;
    }
    const host = join(parent, name);
    written.add(entry.path);
    const mode = entry.mode & 0o1777;
    switch (entry.type) {
      case "directory": {
        const info = await lstat(host).catch(() => undefined);
        if (info && !info.isDirectory()) await removeTree(host);
        if (!info?.isDirectory()) await mkdir(host);
        await chmod(host, mode | 0o700);
        break;
      }
      case "file":
        await replaceable(host);
        await pipeline(entry.content, createWriteStream(host, { mode: mode | 0o200 }));
        await chmod(host, mode | 0o200);
        break;
      case "symlink":
        await replaceable(host);
        await symlink(entry.linkname ?? "", host);
        break;
      case "hardlink": {
        const source = await resolveInside(root, entry.linkname ?? "", { followLast: false });
        if (!(await exists(source))) {
          throw new PolypackError(
            "LAYER_INVALID",
            `hard link ${entry.path} points at ${entry.linkname ?? ""}, which is not in the image`,
          );
        }
        await replaceable(host);
        await link(source, host);
        break;
      }
      default:
        break;
    }
  }
}

// Removes what an earlier layer put at `host`, so a new entry can take its place.
async function replaceable(host: string): Promise<void> {
  await removeTree(host);
}

async function emptyFolder(host: string, archivePath: string, keep: ReadonlySet<string>): Promise<void> {
  const names = await readdir(host).catch(() => [] as string[]);
  for (const name of names) {
    const path = archivePath === "" || archivePath === "." ? name : `${archivePath}/${name}`;
    if (!keep.has(path)) await removeTree(join(host, name));
  }
}

/** Removes a tree, making read-only folders in it writable first (an image may have them). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeWritable(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(path, 0o700);
  for (const name of await readdir(path)) await makeWritable(join(path, name));
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}
