import { PolypackError } from "../errors.js";
import type { ContentTarget, PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { mapLimit } from "../util/concurrency.js";
import type { Blob } from "./blob.js";
import type { Artifact } from "./image.js";

/** Progress events a write emits, for progress bars and logs. */
export type WriteEvent =
  | { type: "plan"; manifests: number; blobs: number; bytes: number }
  | { type: "blob-start"; descriptor: Descriptor }
  | { type: "blob-progress"; descriptor: Descriptor; bytesDone: number }
  | { type: "blob-done"; descriptor: Descriptor; result: PutBlobResult }
  | { type: "manifest-done"; descriptor: Descriptor }
  | { type: "tagged"; descriptor: Descriptor; tags: readonly string[] };

/** Options of `write`. */
export interface WriteOptions {
  /** Tags (or layout ref names) to point at the root when everything else is in place. */
  tags?: readonly string[];
  /** How many blobs move at once (default 4). */
  concurrency?: number;
  onEvent?: (event: WriteEvent) => void;
}

/** What a write did. */
export interface WriteReport {
  root: Descriptor;
  manifests: number;
  blobs: { uploaded: number; mounted: number; moved: number; existing: number; bytesUploaded: number };
  /** True when the target already held every blob and manifest, and only tags were written. */
  upToDate: boolean;
  tags: readonly string[];
}

/** A manifest to store, with its bytes. */
interface PlannedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** Everything a write has to move, in the order it must be stored. */
export interface WritePlan {
  root: Descriptor;
  /** Children before the indexes that name them, the root last. */
  manifests: PlannedManifest[];
  /** Distinct blobs (configs and layers), each once. */
  blobs: Blob[];
}

const MAX_DEPTH = 8;

/**
 * Walks an image or index: every manifest (children first, each once) and every distinct blob.
 * Only manifests and configs are read, never layers.
 */
export async function planWrite(root: Artifact): Promise<WritePlan> {
  const manifests: PlannedManifest[] = [];
  const blobs = new Map<string, Blob>();
  const seen = new Set<string>();
  const visit = async (artifact: Artifact, depth: number): Promise<Descriptor> => {
    const descriptor = await artifact.descriptor();
    if (seen.has(descriptor.digest)) return descriptor;
    seen.add(descriptor.digest);
    if (depth > MAX_DEPTH) {
      throw new PolypackError("MANIFEST_INVALID", `indexes nested deeper than ${MAX_DEPTH} levels`);
    }
    if (artifact.kind === "index") {
      for (const entry of await artifact.entries()) {
        if (entry.descriptor.size > MAX_MANIFEST_BYTES) {
          throw new PolypackError(
            "SIZE_EXCEEDED",
            `manifest ${entry.descriptor.digest} is ${entry.descriptor.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte cap`,
          );
        }
        await visit(await entry.load(), depth + 1);
      }
    } else {
      for (const blob of [await artifact.configBlob(), ...(await artifact.layers())]) {
        if (!blobs.has(blob.descriptor.digest)) blobs.set(blob.descriptor.digest, blob);
      }
    }
    manifests.push({ descriptor, bytes: await artifact.manifestBytes() });
    return descriptor;
  };
  const rootDescriptor = await visit(root, 0);
  return { root: rootDescriptor, manifests, blobs: [...blobs.values()] };
}

/**
 * Writes an image or index into a target: blobs first (each once, `concurrency` at a time; skipped
 * when the target holds it, mounted when it lives in another repository of the target's registry,
 * moved when it is a spool file the target can take), then child manifests by digest, then the
 * indexes that name them, and the tags last, so a tag never points at a partial image. On failure
 * the target is aborted and no tag is written.
 */
export async function write(
  root: Artifact,
  target: ContentTarget,
  options: WriteOptions = {},
): Promise<WriteReport> {
  const emit = options.onEvent ?? (() => undefined);
  const tags = options.tags ?? [];
  try {
    const plan = await planWrite(root);
    const report: WriteReport = {
      root: plan.root,
      manifests: 0,
      blobs: { uploaded: 0, mounted: 0, moved: 0, existing: 0, bytesUploaded: 0 },
      upToDate: false,
      tags,
    };
    const bytes = plan.blobs.reduce((sum, blob) => sum + blob.descriptor.size, 0);
    emit({ type: "plan", manifests: plan.manifests.length, blobs: plan.blobs.length, bytes });
    await mapLimit(plan.blobs, options.concurrency ?? 4, async (blob) => {
      const { descriptor } = blob;
      emit({ type: "blob-start", descriptor });
      const mountFrom = mountable(blob.location, target.location);
      const result = await target.putBlob(descriptor, () => blob.open(), {
        ...(mountFrom ? { mountFrom } : {}),
        ...(blob.spool ? { spool: blob.spool } : {}),
        onProgress: (bytesDone) => emit({ type: "blob-progress", descriptor, bytesDone }),
      });
      if (result === "uploaded") {
        report.blobs.uploaded++;
        report.blobs.bytesUploaded += descriptor.size;
      } else if (result === "mounted") report.blobs.mounted++;
      else if (result === "moved") report.blobs.moved++;
      else report.blobs.existing++;
      emit({ type: "blob-done", descriptor, result });
    });
    let stored = 0;
    for (const manifest of plan.manifests) {
      if (await target.hasManifest(manifest.descriptor)) continue;
      await target.putManifest(manifest.descriptor, manifest.bytes);
      stored++;
      emit({ type: "manifest-done", descriptor: manifest.descriptor });
    }
    report.manifests = stored;
    report.upToDate = stored === 0 && report.blobs.existing === plan.blobs.length;
    if (tags.length > 0) {
      await target.tag(plan.root, tags);
      emit({ type: "tagged", descriptor: plan.root, tags });
    }
    await target.commit?.();
    return report;
  } catch (error) {
    await target.abort?.();
    throw error;
  }
}

/** The repository to mount from: another repository of the target's registry. */
function mountable(
  from: RegistryLocation | undefined,
  to: RegistryLocation | undefined,
): RegistryLocation | undefined {
  return from && to && from.registry === to.registry && from.repository !== to.repository ? from : undefined;
}
