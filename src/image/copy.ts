import type { ContentSource, ContentTarget } from "../oci/content.js";
import { copyReferrers, type ReferrerRoutes } from "./copy-referrers.js";
import { readArtifact } from "./image.js";
import { write, type WriteEvent, type WriteOptions, type WriteReport } from "./write.js";

/** Progress events a copy emits (those of `write`). */
export type CopyEvent = WriteEvent;
/** Options for `copy`. */
export interface CopyOptions extends WriteOptions {
  /**
   * Also carry the OCI referrers (SBOMs, signatures) of every manifest copied, and theirs: read
   * beside the source, written beside the target before any tag (see copyReferrers).
   */
  referrers?: ReferrerRoutes;
}
/** What a copy did. */
export interface CopyReport extends WriteReport {
  /** How many referrers were carried along (present with the `referrers` option). */
  referrers?: number;
}

/**
 * Copies the image or multi-arch index that `source` names into `target`: the image model's
 * `write` of what the source holds, so blobs are checked in the target, mounted across
 * repositories of one registry, streamed once and verified, and the tags come last, after the
 * referrers when they are carried.
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
  const { referrers: routes, ...writeOptions } = options;
  if (routes === undefined) return write(root, target, writeOptions);
  let referrers = 0;
  const report = await write(root, target, {
    ...writeOptions,
    beforeTags: async (descriptor) => {
      await options.beforeTags?.(descriptor);
      referrers = await copyReferrers(root, source, routes, {
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      });
    },
  });
  return { ...report, referrers };
}
