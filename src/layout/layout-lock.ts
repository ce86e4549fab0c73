import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { onInterruptCleanup } from "../util/cleanup.js";
import { HOST_TAG, processAlive } from "../util/fs.js";
import { STATE_DIR } from "./verified-blobs.js";

/** The lock file, under the layout's STATE_DIR, held while index.json (and polypack's state) change. */
export const LOCK_FILE = "index.json.lock";
/**
 * A lock older than this is taken over even when its holder may be alive (another machine's, or a
 * reused pid): holding it is a read, a small write and a rename, which never takes this long.
 */
export const LOCK_STALE_MS = 60_000;
/** A lock file without readable content is given this long for its creator to fill it in. */
const UNREADABLE_STALE_MS = 5_000;
/** Breaking a stale lock takes two file operations; a breaker's own lock older than this is dead. */
const BREAKER_STALE_MS = 10_000;

/** What a lock file says and when it was last changed. */
interface Holder {
  raw: string;
  mtimeMs: number;
  host?: string;
  pid?: number;
  token?: string;
}

/**
 * Runs `work` while holding the layout's lock file, so that read-modify-write updates of
 * index.json from several processes are applied one after another and none is lost. The lock is
 * created with O_EXCL and names its holder (machine, pid, a random token). A lock whose holder is
 * gone (same machine, pid not running) or that is older than LOCK_STALE_MS is taken over; a
 * separate breaker file makes sure only one waiter breaks it. An interrupted process removes its
 * lock in its signal handler.
 */
export async function withLayoutLock<T>(layoutPath: string, work: () => Promise<T>): Promise<T> {
  const dir = join(layoutPath, STATE_DIR);
  await mkdir(dir, { recursive: true });
  const release = await acquire(join(dir, LOCK_FILE));
  try {
    return await work();
  } finally {
    await release();
  }
}

async function acquire(lock: string): Promise<() => Promise<void>> {
  let wait = 2;
  for (;;) {
    const token = await tryCreate(lock);
    if (token !== undefined) {
      const unregister = onInterruptCleanup(() => removeIfOwnedSync(lock, token));
      return async () => {
        unregister();
        if ((await readHolder(lock))?.token === token) await rm(lock, { force: true });
      };
    }
    const holder = await readHolder(lock);
    if (holder !== undefined && isStale(holder)) {
      await breakStale(lock, holder);
      continue;
    }
    await delay(wait * (0.5 + Math.random()));
    wait = Math.min(wait * 2, 50);
  }
}

/** Creates the lock file; its token, or undefined when another process holds the lock. */
async function tryCreate(lock: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(lock, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw error;
  }
  const token = randomBytes(8).toString("hex");
  try {
    await handle.writeFile(JSON.stringify({ host: HOST_TAG, pid: process.pid, token }));
  } catch (error) {
    await handle.close();
    await rm(lock, { force: true });
    throw error;
  }
  await handle.close();
  return token;
}

async function readHolder(lock: string): Promise<Holder | undefined> {
  try {
    const [info, raw] = await Promise.all([stat(lock), readFile(lock, "utf8")]);
    return { raw, mtimeMs: info.mtimeMs, ...parseHolder(raw) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function parseHolder(raw: string): Pick<Holder, "host" | "pid" | "token"> {
  try {
    const value = JSON.parse(raw) as { host?: unknown; pid?: unknown; token?: unknown };
    return {
      ...(typeof value.host === "string" ? { host: value.host } : {}),
      ...(typeof value.pid === "number" ? { pid: value.pid } : {}),
      ...(typeof value.token === "string" ? { token: value.token } : {}),
    };
  } catch {
    return {};
  }
}

/** Whether the lock's holder is gone or has held it for too long. */
function isStale(holder: Holder): boolean {
  const age = Date.now() - holder.mtimeMs;
  if (holder.token === undefined) return age > UNREADABLE_STALE_MS;
  if (age > LOCK_STALE_MS) return true;
  return holder.host === HOST_TAG && holder.pid !== undefined && !processAlive(holder.pid);
}

/**
 * Removes a stale lock, unless it changed since it was judged stale. Only the waiter that creates
 * the breaker file may do so: otherwise two waiters could both judge the same lock stale, and the
 * slower one would remove the lock the faster one had just taken.
 */
async function breakStale(lock: string, holder: Holder): Promise<void> {
  const breaker = `${lock}.break`;
  let handle;
  try {
    handle = await open(breaker, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const info = await stat(breaker).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > BREAKER_STALE_MS) await rm(breaker, { force: true });
    else await delay(5);
    return;
  }
  await handle.close();
  const unregister = onInterruptCleanup(() => rmSync(breaker, { force: true }));
  try {
    const current = await readHolder(lock);
    if (current && current.raw === holder.raw && current.mtimeMs === holder.mtimeMs) {
      await rm(lock, { force: true });
    }
  } finally {
    unregister();
    await rm(breaker, { force: true });
  }
}

function removeIfOwnedSync(lock: string, token: string): void {
  try {
    if (parseHolder(readFileSync(lock, "utf8")).token === token) rmSync(lock, { force: true });
  } catch {
    // Already gone.
  }
}
