import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { PolypackError } from "../errors/index.js";
import type { ContentTarget, PutBlobResult, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { mapLimit } from "../util/concurrency.js";
import { guardStream } from "../util/streams.js";
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
  /** How many blobs move at once (default 4; presence checks run at least 16 at once). */
  concurrency?: number;
  onEvent?: (event: WriteEvent) => void;
  /**
   * Runs once every blob and manifest is stored and before any tag is written (referrers such as
   * SBOMs go here, so a tag never names an image whose attachments are still missing). A failure
   * aborts the write like any other: no tag is written.
   */
  beforeTags?: (root: Descriptor) => Promise<void>;
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
      for (const blob of await artifact.blobs()) {
        if (!blobs.has(blob.descriptor.digest)) blobs.set(blob.descriptor.digest, blob);
      }
    }
    manifests.push({ descriptor, bytes: await artifact.manifestBytes() });
    return descriptor;
  };
  const rootDescriptor = await visit(root, 0);
  return { root: rootDescriptor, manifests, blobs: [...blobs.values()] };
}

/** What writeMissing wrote. */
export type WriteCounts = Pick<WriteReport, "manifests" | "blobs" | "upToDate">;

/** HEADs (or stat calls) that check what a target holds run this many at once at least. */
const CHECK_CONCURRENCY = 16;

/**
 * Writes an image or index into a target: blobs first, then child manifests by digest, then the
 * indexes that name them, and the tags last, so a tag never points at a partial image. On failure
 * the target is aborted and no tag is written. See writeMissing for what is written.
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
    const counts = await writePlanned(plan, target, options);
    await options.beforeTags?.(plan.root);
    if (tags.length > 0) {
      await target.tag(plan.root, tags);
      emit({ type: "tagged", descriptor: plan.root, tags });
    }
    await target.commit?.();
    return { root: plan.root, ...counts, tags };
  } catch (error) {
    await target.abort?.();
    throw error;
  }
}

/**
 * Writes into `target` whatever of the image or index it lacks, and nothing else; no tag. What the
 * target holds is checked, not assumed: every blob and manifest of the graph (concurrently: a HEAD
 * each on a registry, a stat on a layout, where a file polypack cannot vouch for is hashed), so a
 * present root with a missing or damaged blob below it is repaired, not taken as complete. A blob
 * is skipped when present, mounted when it lives in another repository of the target's registry,
 * moved when it is a spool file the target can take, and streamed (verified) otherwise. Blobs the
 * target claims to have although the check said otherwise (a registry keeps a damaged copy when
 * the blob is pushed again) are checked once more, and fail with DESTINATION_BLOB_INVALID if still
 * wrong.
 */
export async function writeMissing(
  root: Artifact,
  target: ContentTarget,
  options: Omit<WriteOptions, "tags"> = {},
): Promise<WriteCounts & { root: Descriptor }> {
  const plan = await planWrite(root);
  return { root: plan.root, ...(await writePlanned(plan, target, options)) };
}

async function writePlanned(
  plan: WritePlan,
  target: ContentTarget,
  options: Omit<WriteOptions, "tags">,
): Promise<WriteCounts> {
  const emit = options.onEvent ?? (() => undefined);
  const concurrency = options.concurrency ?? 4;
  const items = [
    ...plan.blobs.map((blob) => ({ descriptor: blob.descriptor, manifest: undefined })),
    ...plan.manifests.map((manifest) => ({ descriptor: manifest.descriptor, manifest })),
  ];
  const present = await mapLimit(items, Math.max(concurrency, CHECK_CONCURRENCY), (item) =>
    item.manifest ? target.hasManifest(item.descriptor) : target.hasBlob(item.descriptor),
  );
  const blobs = plan.blobs.filter((_, i) => !present[i]);
  const manifests = plan.manifests.filter((_, i) => !present[plan.blobs.length + i]);
  const counts: WriteCounts = {
    manifests: 0,
    blobs: {
      uploaded: 0,
      mounted: 0,
      moved: 0,
      existing: plan.blobs.length - blobs.length,
      bytesUploaded: 0,
    },
    upToDate: blobs.length === 0 && manifests.length === 0,
  };
  const bytes = blobs.reduce((sum, blob) => sum + blob.descriptor.size, 0);
  emit({ type: "plan", manifests: manifests.length, blobs: blobs.length, bytes });

  const unconfirmed: Descriptor[] = [];
  await mapLimit(blobs, concurrency, async (blob) => {
    const { descriptor } = blob;
    emit({ type: "blob-start", descriptor });
    const mountFrom = mountable(blob.location, target.location);
    const result = await putWithRefetch(blob, (open) =>
      target.putBlob(descriptor, open, {
        ...(mountFrom ? { mountFrom } : {}),
        ...(blob.spool ? { spool: blob.spool } : {}),
        onProgress: (bytesDone) => emit({ type: "blob-progress", descriptor, bytesDone }),
      }),
    );
    if (result === "uploaded" || result === "moved") {
      counts.blobs[result]++;
      if (result === "uploaded") counts.blobs.bytesUploaded += descriptor.size;
    } else {
      if (result === "mounted") counts.blobs.mounted++;
      else counts.blobs.existing++;
      // Neither a mount nor "already there" sent the bytes, so nothing vouched for them.
      unconfirmed.push(descriptor);
    }
    emit({ type: "blob-done", descriptor, result });
  });
  const confirmed = await mapLimit(unconfirmed, CHECK_CONCURRENCY, (blob) => target.hasBlob(blob));
  const damaged = unconfirmed.find((_, i) => !confirmed[i]);
  if (damaged) {
    throw new PolypackError(
      "DESTINATION_BLOB_INVALID",
      `${target.name} holds blob ${damaged.digest} with a size other than its ${damaged.size} bytes, and keeps that copy when the blob is written again`,
      { hint: "remove the damaged blob from the destination's storage, then write again" },
    );
  }

  for (const manifest of manifests) {
    await target.putManifest(manifest.descriptor, manifest.bytes);
    counts.manifests++;
    emit({ type: "manifest-done", descriptor: manifest.descriptor });
  }
  return counts;
}

// A blob whose read failed in a way a second read may cure is written again this many times.
const REFETCHES = 3;
const REFETCH_DELAY_MS = 250;

/**
 * Runs a put, starting it over (with a freshly opened stream) when it failed because reading the
 * blob failed in a way its source says another read may cure. The put itself decides nothing: a
 * target's own failures are its own to retry.
 */
async function putWithRefetch(
  blob: Blob,
  put: (open: () => Promise<Readable>) => Promise<PutBlobResult>,
): Promise<PutBlobResult> {
  for (let attempt = 0; ; attempt++) {
    let readFailure: unknown;
    // Every stream handed out gets a listener at once: when one blob fails, the others still in
    // flight may fail too, after the write stopped listening, and must not crash the process.
    const open = async (): Promise<Readable> => {
      const stream = guardStream(await blob.open());
      stream.once("error", (error) => (readFailure ??= error));
      return stream;
    };
    try {
      return await put(open);
    } catch (error) {
      const cause = readFailure ?? error;
      if (attempt >= REFETCHES || readFailure === undefined || !blob.refetchable?.(cause)) throw error;
      await delay(REFETCH_DELAY_MS * 2 ** attempt);
    }
  }
}

/** The repository to mount from: another repository of the target's registry. */
function mountable(
  from: RegistryLocation | undefined,
  to: RegistryLocation | undefined,
): RegistryLocation | undefined {
  return from && to && from.registry === to.registry && from.repository !== to.repository ? from : undefined;
}
