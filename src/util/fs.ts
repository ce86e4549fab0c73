import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import {
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  type FileHandle,
} from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { onInterruptCleanup } from "./cleanup.js";

/** This machine, in the names of temporary and lock files, so that only it judges their pids (8 hex digits). */
export const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

/**
 * `.NAME.<host>-<pid>-<random>.tmp`, optionally with `.d` for a directory; the older form without
 * host and pid is recognised too, so that its leftovers are swept by age.
 */
const TEMP_NAME = /^\.(.+)\.(?:([0-9a-f]{8})-([1-9][0-9]*)-)?[0-9a-f]{12}\.tmp(?:\.d)?$/;

/**
 * A temporary file whose writer cannot be shown to be dead (another machine's, or one whose pid is
 * alive, perhaps reused) is only removed once it is this old: long enough for any single write.
 */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

/** Temporary paths this process created and has not yet renamed or removed. */
const liveTemps = new Set<string>();
let cleanupRegistered = false;

/**
 * A temporary name beside `path`, so the final rename stays on one file system. It embeds this
 * machine and process, so a later run can tell a dead writer's leftovers from a live one's (see
 * sweepStaleTemps). Callers may append `.d` and use it as a directory. Until `forgetTemp`, the
 * path (and its `.d` directory) is removed if the process is interrupted.
 */
export function tempPathBeside(path: string): string {
  const temp = join(
    dirname(path),
    `.${basename(path)}.${HOST_TAG}-${process.pid}-${randomBytes(6).toString("hex")}.tmp`,
  );
  return trackTemp(temp);
}

/**
 * Tracks a temporary file or folder this process made, so it (and `path.d`) is removed if the
 * process is interrupted, until `forgetTemp`. Returns `path`.
 */
export function trackTemp(path: string): string {
  liveTemps.add(path);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    onInterruptCleanup(removeLiveTempsSync);
  }
  return path;
}

/** Stops tracking a temporary path that was renamed into place or removed. */
export function forgetTemp(temp: string): void {
  liveTemps.delete(temp);
}

/** Removes every temporary file and directory this process still has; for signal handlers. */
function removeLiveTempsSync(): void {
  for (const temp of liveTemps) {
    for (const path of [temp, `${temp}.d`]) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // Left for the next run's sweep.
      }
    }
  }
  liveTemps.clear();
  cleanupRegistered = false;
}

/** Whether a process with this id exists on this machine (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  // 0 and negative ids would signal process groups, not a process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes polypack's temporary files and directories in `dir` that no live writer can still be
 * using: those of this machine whose process is gone, and any older than STALE_TEMP_AGE_MS. With
 * `name`, only the temporaries of that file (`.NAME.….tmp`) are considered. Best effort: what
 * cannot be removed is left. Returns the names removed.
 */
export async function sweepStaleTemps(dir: string, name?: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const match = TEMP_NAME.exec(entry);
    if (!match || (name !== undefined && match[1] !== name)) continue;
    const path = join(dir, entry);
    if (liveTemps.has(path) || liveTemps.has(path.replace(/\.d$/, ""))) continue;
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    const [, , host, pid] = match;
    const old = Date.now() - info.mtimeMs > STALE_TEMP_AGE_MS;
    const dead = host === HOST_TAG && pid !== undefined && !processAlive(Number(pid));
    if (!old && !dead) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(entry);
    } catch {
      // Someone else's file we may not remove, or a race with another sweeper: leave it.
    }
  }
  return removed;
}

/** Writes a file atomically: to a temporary file, fsync, then rename over the target. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeWithAtomic(path, async (file) => {
    await file.writeFile(data);
    await file.sync();
  });
}

/**
 * Streams into a file atomically. The stream is fully consumed (and may verify itself) before the
 * rename; on any error the temporary file is removed and nothing appears at `path`.
 */
export async function writeStreamAtomic(
  path: string,
  source: Readable | AsyncIterable<Uint8Array>,
): Promise<void> {
  await writeWithAtomic(path, (file) => pipeline(source, file.createWriteStream()));
}

/**
 * Writes a file atomically through its handle: `write` fills a temporary file beside `path`, which
 * is renamed into place once `write` is done; on any error it is removed and nothing appears at
 * `path`. The handle is closed either way.
 */
export async function writeWithAtomic(
  path: string,
  write: (file: FileHandle) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  try {
    // Opened before the data flows, so a failure cannot leave a lazily created file behind.
    const file = await open(temp, "w", 0o644);
    try {
      await write(file);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
    // A failing close (a late write error on some file systems) fails the write.
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    forgetTemp(temp);
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

/** The name with which `ensureWritableDirectory`'s short-lived probe folders begin. */
export const PROBE_PREFIX = ".polypack-probe-";

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
    probe = await mkdtemp(join(path, PROBE_PREFIX));
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
