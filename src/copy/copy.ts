import type { ContentSource, ContentTarget, PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { mapLimit } from "../util/concurrency.js";
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
  /** How many blobs move at once. */
  concurrency?: number;
  /** Receives progress events. */
  onEvent?: (event: CopyEvent) => void;
}

/** What a copy did. */
export interface CopyReport {
  root: Descriptor;
  manifests: number;
  blobs: { uploaded: number; mounted: number; existing: number; bytesUploaded: number };
  /** True when the target already had the root manifest and nothing but tags was written. */
  upToDate: boolean;
  tags: readonly string[];
}

/**
 * Copies the image or multi-arch index that `source` names into `target`: blobs first (each once,
 * `concurrency` at a time, mounted when source and target share a registry), then child manifests
 * by digest, then the indexes that name them, and the tags last, so a tag never points at a
 * partial image. On failure the target is aborted and no tag is written.
 */
export async function copy(
  source: ContentSource,
  target: ContentTarget,
  options: CopyOptions = {},
): Promise<CopyReport> {
  const emit = options.onEvent ?? (() => undefined);
  const tags = options.tags ?? [];
  const report: CopyReport = {
    root: await source.resolve(),
    manifests: 0,
    blobs: { uploaded: 0, mounted: 0, existing: 0, bytesUploaded: 0 },
    upToDate: false,
    tags,
  };
  try {
    if (await target.hasManifest(report.root)) {
      report.upToDate = true;
    } else {
      await copyGraph(source, target, report, options, emit);
    }
    if (tags.length > 0) {
      await target.tag(report.root, tags);
      emit({ type: "tagged", descriptor: report.root, tags });
    }
    await target.commit?.();
  } catch (error) {
    await target.abort?.();
    throw error;
  }
  return report;
}

async function copyGraph(
  source: ContentSource,
  target: ContentTarget,
  report: CopyReport,
  options: CopyOptions,
  emit: (event: CopyEvent) => void,
): Promise<void> {
  const graph = await planGraph(source, report.root);
  const bytes = graph.blobs.reduce((sum, blob) => sum + blob.size, 0);
  emit({ type: "plan", manifests: graph.manifests.length, blobs: graph.blobs.length, bytes });
  const mountFrom = sameRegistry(source.location, target.location) ? source.location : undefined;

  await mapLimit(graph.blobs, options.concurrency ?? 4, async (blob) => {
    emit({ type: "blob-start", descriptor: blob });
    const result = await target.putBlob(blob, () => source.openBlob(blob), {
      ...(mountFrom ? { mountFrom } : {}),
      onProgress: (bytesDone) => emit({ type: "blob-progress", descriptor: blob, bytesDone }),
    });
    if (result === "uploaded") {
      report.blobs.uploaded++;
      report.blobs.bytesUploaded += blob.size;
    } else if (result === "mounted") report.blobs.mounted++;
    else report.blobs.existing++;
    emit({ type: "blob-done", descriptor: blob, result });
  });

  for (const manifest of graph.manifests) {
    await target.putManifest(manifest.descriptor, manifest.parsed.bytes);
    report.manifests++;
    emit({ type: "manifest-done", descriptor: manifest.descriptor });
  }
}

function sameRegistry(a: RegistryLocation | undefined, b: RegistryLocation | undefined): boolean {
  return a !== undefined && b !== undefined && a.registry === b.registry && a.repository !== b.repository;
}
