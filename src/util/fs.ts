import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";

/** A temporary name beside `path`, so the final rename stays on one file system. */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Writes a file atomically: to a temporary file, fsync, then rename over the target. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  try {
    const handle = await open(temp, "w", 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Streams into a file atomically. The stream is fully consumed (and may verify itself) before the
 * rename; on any error the temporary file is removed and nothing appears at `path`.
 */
export async function writeStreamAtomic(
  path: string,
  source: Readable | AsyncIterable<Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  try {
    // Opened before the data flows, so a failure cannot leave a lazily created file behind.
    const file = await open(temp, "w", 0o644);
    await pipeline(source, file.createWriteStream());
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Creates `path` and any missing parents one level at a time, and returns the first directory it
 * created (undefined when `path` already was a directory). Node's recursive mkdir loops forever
 * where a parent exists but refuses new entries with ENOENT, as /proc does; here the first failing
 * level ends the walk with its own errno error, whose `path` names that level.
 */
export async function makeDirectory(path: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    const info = await stat(current).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && dirname(current) !== current)
        return undefined;
      throw error;
    });
    if (info !== undefined) {
      if (!info.isDirectory()) throw notADirectory(current);
      break;
    }
    missing.unshift(current);
  }
  for (const dir of missing) {
    try {
      await mkdir(dir);
    } catch (error) {
      // Another process may create the same folder meanwhile; only a folder will do.
      const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
      if (!exists || !(await stat(dir)).isDirectory()) throw error;
    }
  }
  return missing[0];
}

/**
 * Makes sure `path` is a folder this process can create entries in: creates it like
 * `makeDirectory` (returning the first folder created), then creates and removes a probe folder
 * inside. The probe is what finds read-only mounts, missing permissions and /proc-like folders
 * before any real work; its error names `path`, not the probe. A folder created here is removed
 * again when the probe fails.
 */
export async function ensureWritableDirectory(path: string): Promise<string | undefined> {
  const created = await makeDirectory(path);
  let probe: string;
  try {
    probe = await mkdtemp(join(path, ".polypack-probe-"));
  } catch (error) {
    if (created !== undefined) await rm(created, { recursive: true, force: true });
    throw Object.assign(new Error((error as Error).message), {
      ...(error as NodeJS.ErrnoException),
      path: resolve(path),
    });
  }
  await rmdir(probe);
  return created;
}

/** Whether absolute `path` is `root` itself or lies below it, by their names alone. */
export function isPathWithin(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest === "" || (rest !== ".." && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}

function notADirectory(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), {
    code: "ENOTDIR",
    errno: -20,
    syscall: "mkdir",
    path,
  });
}
