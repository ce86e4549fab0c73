import type { ContentSource, ContentTarget } from "../oci/content.js";
import { readArtifact } from "./image.js";
import { write, type WriteEvent, type WriteOptions, type WriteReport } from "./write.js";

/** Progress events a copy emits (those of `write`). */
export type CopyEvent = WriteEvent;
/** Options for `copy`. */
export type CopyOptions = WriteOptions;
/** What a copy did. */
export type CopyReport = WriteReport;

/**
 * Copies the image or multi-arch index that `source` names into `target`: the image model's
 * `write` of what the source holds, so blobs are checked in the target, mounted across
 * repositories of one registry, streamed once and verified, and the tags come last.
 */
export async function copy(
  source: ContentSource,
  target: ContentTarget,
  options: CopyOptions = {},
): Promise<CopyReport> {
  let root;
  try {
    root = await readArtifact(source);
  } catch (error) {
    await target.abort?.();
    throw error;
  }
  return write(root, target, options);
}
