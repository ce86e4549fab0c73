import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forgetTemp, trackTemp } from "./fs.js";

/**
 * A new folder in the system's temporary directory, `<prefix>XXXXXX`, that SIGINT or SIGTERM
 * removes with everything in it (it is tracked with the process's other temporaries, see
 * trackTemp), so an interrupted run keeps its promise that its temporary files are gone. Remove it
 * with removeScratchDir.
 */
export async function makeScratchDir(prefix: string): Promise<string> {
  return trackTemp(await mkdtemp(join(tmpdir(), prefix)));
}

/** Removes a folder makeScratchDir made (its contents too) and stops watching it. */
export async function removeScratchDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } finally {
    forgetTemp(dir);
  }
}

/** Stops watching a scratch folder the caller removed itself (or moved away). */
export function forgetScratchDir(dir: string): void {
  forgetTemp(dir);
}
