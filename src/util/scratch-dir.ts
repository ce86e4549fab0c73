import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onInterruptCleanup } from "./cleanup.js";

// Each live scratch folder's interrupt clean-up, so removing the folder also unregisters it.
const unregister = new Map<string, () => void>();

/**
 * A new folder in the system's temporary directory, `<prefix>XXXXXX`, that SIGINT or SIGTERM
 * removes with everything in it (see onInterruptCleanup), so an interrupted run keeps its promise
 * that its temporary files are gone. Remove it with removeScratchDir.
 */
export async function makeScratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  unregister.set(
    dir,
    onInterruptCleanup(() => rmSync(dir, { recursive: true, force: true })),
  );
  return dir;
}

/** Removes a folder makeScratchDir made (its contents too) and stops watching it. */
export async function removeScratchDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } finally {
    forgetScratchDir(dir);
  }
}

/** Stops watching a scratch folder the caller removed itself (or moved away). */
export function forgetScratchDir(dir: string): void {
  unregister.get(dir)?.();
  unregister.delete(dir);
}
