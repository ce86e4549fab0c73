import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContentTarget, PutBlobOptions, PutBlobResult } from "../oci/content.js";
import type { LayerEntry } from "./entry.js";
import { writeLayerFile, type LayerOptions, type WrittenLayer } from "./write-layer.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/** Options for putLayer. */
export interface PutLayerOptions extends LayerOptions {
  /** Where the compressed blob is spooled before upload (default: the system temp directory). */
  spoolDir?: string;
  /** Passed on to the target's putBlob. */
  put?: PutBlobOptions;
}

/**
 * Writes a layer and stores it in a target. A target needs the digest before the bytes, so the
 * blob is spooled to a temporary file first (one pass), then streamed to the target (which skips
 * a blob it already holds) and removed.
 */
export async function putLayer(
  target: ContentTarget,
  entries: Iterable<LayerEntry>,
  options: PutLayerOptions = {},
): Promise<WrittenLayer & { result: PutBlobResult }> {
  const dir = await mkdtemp(join(options.spoolDir ?? tmpdir(), "polypack-layer-"));
  try {
    const file = join(dir, "layer");
    const layer = await writeLayerFile(entries, file, options);
    const result = await target.putBlob(
      layer.descriptor,
      () => Promise.resolve(createReadStream(file, { highWaterMark: STREAM_CHUNK_BYTES })),
      options.put,
    );
    return { ...layer, result };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
