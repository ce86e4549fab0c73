import type { Index } from "../image/image.js";
import { writeMissing, type WriteCounts, type WriteEvent } from "../image/write.js";
import type { ContentTarget } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";

/** Where one index of a stack goes, and the tags (or layout ref names) it gets. */
export interface StackDestination {
  target: ContentTarget;
  tags: readonly string[];
}

/** What writeStack wrote for one index. */
export interface WrittenIndex {
  root: Descriptor;
  tags: readonly string[];
  counts: WriteCounts;
}

/**
 * Writes a stack's build and run indexes as every output is written (children by digest, indexes
 * after their children) and tags both only when both are complete, so a failure leaves no tag on
 * either. Both may go into one target (a layout with two ref names). On failure every target is
 * aborted and the error rethrown.
 */
export async function writeStack(
  indexes: { build: Index; run: Index },
  destinations: { build: StackDestination; run: StackDestination },
  onEvent?: (event: WriteEvent) => void,
): Promise<{ build: WrittenIndex; run: WrittenIndex }> {
  const targets = [...new Set([destinations.build.target, destinations.run.target])];
  const options = onEvent ? { onEvent } : {};
  try {
    const build = await writeMissing(indexes.build, destinations.build.target, options);
    const run = await writeMissing(indexes.run, destinations.run.target, options);
    for (const [written, destination] of [
      [build, destinations.build],
      [run, destinations.run],
    ] as const) {
      if (destination.tags.length > 0) {
        await destination.target.tag(written.root, destination.tags);
        onEvent?.({ type: "tagged", descriptor: written.root, tags: destination.tags });
      }
    }
    for (const target of targets) await target.commit?.();
    const result = (written: typeof build, destination: StackDestination): WrittenIndex => {
      const { root, ...counts } = written;
      return { root, tags: destination.tags, counts };
    };
    return { build: result(build, destinations.build), run: result(run, destinations.run) };
  } catch (error) {
    for (const target of targets) await target.abort?.();
    throw error;
  }
}
