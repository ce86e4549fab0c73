import type { ContentSource, ContentTarget, PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { PolypackError } from "../errors.js";
import { mapLimit } from "../util/concurrency.js";
import { guardStream } from "../util/streams.js";
import { planGraph } from "./plan.js";

/** Progress events a copy emits, for progress bars and logs. */
export type CopyEvent =
  | { type: "plan"; manifests: number; blobs: number; bytes: number }
  | { type: "blob-start"; descriptor: Descriptor }
  | { type: "blob-progress"; descriptor: Descriptor; bytesDone: number }
  | { type: "blob-done"; descriptor: Descriptor; result: PutBlobResult }
  | { type: "manifest-done"; descriptor: Descriptor }
  | { type: "tagged"; descriptor: Descriptor; tags: readonly string[] };

/** Options for `copy`. */
export interface CopyOptions {
  /** Tags (or layout ref names) to point at the root when everything else is in place. */
  tags?: readonly string[];
  /** How many blobs move at once (presence checks run at least CHECK_CONCURRENCY at once). */
  concurrency?: number;
  /** Receives progress events. */
  onEvent?: (event: CopyEvent) => void;
}

/** What a copy did. */
export interface CopyReport {
  root: Descriptor;
  manifests: number;
  blobs: { uploaded: number; mounted: number; existing: number; bytesUploaded: number };
  /** True when the target already held every blob and manifest, so nothing but tags was written. */
  upToDate: boolean;
  tags: readonly string[];
}

/** HEADs (or stat calls) that check what a target holds run this many at once at least. */
const CHECK_CONCURRENCY = 16;

/**
 * Copies the image or multi-arch index that `source` names into `target`: blobs first (each once,
 * `concurrency` at a time, mounted when source and target share a registry), then child manifests
 * by digest, then the indexes that name them, and the tags last, so a tag never points at a
 * partial image. Whatever the target already holds is checked, not assumed: every blob and
 * manifest of the graph must be present with its size (see copyMissing), even when the root is.
 * On failure the target is aborted and no tag is written.
 */
export async function copy(
  source: ContentSource,
  target: ContentTarget,
  options: CopyOptions = {},
): Promise<CopyReport> {
  const emit = options.onEvent ?? (() => undefined);
  const tags = options.tags ?? [];
  const root = await source.resolve();
  try {
    const written = await copyMissing(source, target, root, options);
    if (tags.length > 0) {
      await target.tag(root, tags);
      emit({ type: "tagged", descriptor: root, tags });
    }
    await target.commit?.();
    return { root, ...written, tags };
  } catch (error) {
    await target.abort?.();
    throw error;
  }
}

/** What copyMissing wrote. */
export type CopyCounts = Pick<CopyReport, "manifests" | "blobs" | "upToDate">;

/**
 * Writes into `target` whatever of the graph under `root` it lacks, and nothing else; no tag. Every
 * blob and manifest is checked first (concurrently: a HEAD each on a registry, a stat on a layout,
 * where a file polypack cannot vouch for is hashed), so a present root with a missing or damaged
 * blob below it is repaired, not taken as complete. Blobs the target claims to have although the
 * check said otherwise (a registry keeps a damaged copy when the blob is pushed again) are checked
 * once more, and fail the copy with DESTINATION_BLOB_INVALID if still wrong.
 */
export async function copyMissing(
  source: ContentSource,
  target: ContentTarget,
  root: Descriptor,
  options: Omit<CopyOptions, "tags"> = {},
): Promise<CopyCounts> {
  const emit = options.onEvent ?? (() => undefined);
  const concurrency = options.concurrency ?? 4;
  const graph = await planGraph(source, root);
  const items = [
    ...graph.blobs.map((descriptor) => ({ descriptor, manifest: undefined })),
    ...graph.manifests.map((manifest) => ({ descriptor: manifest.descriptor, manifest })),
  ];
  const present = await mapLimit(items, Math.max(concurrency, CHECK_CONCURRENCY), (item) =>
    item.manifest ? target.hasManifest(item.descriptor) : target.hasBlob(item.descriptor),
  );
  const blobs = graph.blobs.filter((_, i) => !present[i]);
  const manifests = graph.manifests.filter((_, i) => !present[graph.blobs.length + i]);
  const counts: CopyCounts = {
    manifests: 0,
    blobs: { uploaded: 0, mounted: 0, existing: graph.blobs.length - blobs.length, bytesUploaded: 0 },
    upToDate: blobs.length === 0 && manifests.length === 0,
  };
  const bytes = blobs.reduce((sum, blob) => sum + blob.size, 0);
  emit({ type: "plan", manifests: manifests.length, blobs: blobs.length, bytes });
  const mountFrom = sameRegistry(source.location, target.location) ? source.location : undefined;

  const unconfirmed: Descriptor[] = [];
  await mapLimit(blobs, concurrency, async (blob) => {
    emit({ type: "blob-start", descriptor: blob });
    // Every stream handed out gets a listener at once: when one blob fails, the others still in
    // flight may fail too, after the copy stopped listening, and must not crash the process.
    const result = await target.putBlob(blob, () => source.openBlob(blob).then(guardStream), {
      ...(mountFrom ? { mountFrom } : {}),
      onProgress: (bytesDone) => emit({ type: "blob-progress", descriptor: blob, bytesDone }),
    });
    if (result === "uploaded") {
      counts.blobs.uploaded++;
      counts.blobs.bytesUploaded += blob.size;
    } else {
      if (result === "mounted") counts.blobs.mounted++;
      else counts.blobs.existing++;
      // Neither a mount nor "already there" sent the bytes, so nothing vouched for them.
      unconfirmed.push(blob);
    }
    emit({ type: "blob-done", descriptor: blob, result });
  });
  const confirmed = await mapLimit(unconfirmed, CHECK_CONCURRENCY, (blob) => target.hasBlob(blob));
  const damaged = unconfirmed.find((_, i) => !confirmed[i]);
  if (damaged) {
    throw new PolypackError(
      "DESTINATION_BLOB_INVALID",
      `${target.name} holds blob ${damaged.digest} with a size other than its ${damaged.size} bytes, and keeps that copy when the blob is written again`,
      { hint: "remove the damaged blob from the destination's storage, then copy again" },
    );
  }

  for (const manifest of manifests) {
    await target.putManifest(manifest.descriptor, manifest.parsed.bytes);
    counts.manifests++;
    emit({ type: "manifest-done", descriptor: manifest.descriptor });
  }
  return counts;
}

function sameRegistry(a: RegistryLocation | undefined, b: RegistryLocation | undefined): boolean {
  return a !== undefined && b !== undefined && a.registry === b.registry && a.repository !== b.repository;
}
