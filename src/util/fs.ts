import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join, basename } from "node:path";
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
