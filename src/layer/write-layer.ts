import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { verifyingStream } from "../oci/verify.js";
import { tempPathBeside } from "../util/fs.js";
import type { LayerEntry } from "./entry.js";
import { checkGzipLevel, DEFAULT_GZIP_LEVEL } from "./gzip.js";
import { MemberCache } from "./member-cache.js";
import { writeGzipLayer } from "./gzip-layer.js";
import { checkParallelism, defaultParallelism, type MemberStats } from "./parallel-gzip.js";
import { segmentation } from "./segment-plan.js";
import { teed } from "./stream-util.js";
import { prepareEntries, tarHeaderOptions, tarStream, type TarOptions } from "./tar-writer.js";

/** How a layer blob is written. */
export interface LayerOptions extends TarOptions {
  /** gzip (default) or none (a plain tar). */
  compression?: "gzip" | "none";
  /** gzip level 0-9 (default 6, as pack). */
  compressionLevel?: number;
  /** OCI (default) or Docker layer media types. */
  mediaTypes?: "oci" | "docker";
  /** gzip members compressed at once (default: one per core, at least 2, at most the libuv pool). */
  parallelism?: number;
  /**
   * A directory where compressed gzip members are kept between runs (see README.md). A member
   * whose uncompressed bytes are there is copied instead of compressed again, once the entry is
   * checked to inflate to exactly those bytes. No cache when unset.
   */
  memberCache?: string;
  /**
   * Files of at least this many bytes become gzip members of their own (default 4 MiB); a layer
   * whose tar is smaller stays one member. Part of the layer format: changing it changes digests.
   */
  segmentThreshold?: number;
  /** The most uncompressed bytes per gzip member (default 8 MiB). Part of the layer format too. */
  memberSize?: number;
  /**
   * Receives the layer's uncompressed tar as it is produced (the bytes the diffID is the digest
   * of), with backpressure, so a reader can inspect the layer without reading it back. Ended when
   * the layer is complete, destroyed when writing fails.
   */
  tarTap?: Writable;
}

/** A written layer: its blob descriptor and the digest of its uncompressed tar. */
export interface WrittenLayer {
  /** Descriptor of the blob as stored (compressed). */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar, for rootfs.diff_ids and pack's layerDiffID. */
  diffID: string;
  /** Size of the uncompressed tar. */
  uncompressedSize: number;
  /** How the gzip members were made (gzip layers only). */
  members?: MemberStats;
}

/** The media type of a layer blob written with these options. */
export function layerMediaType(options: Pick<LayerOptions, "compression" | "mediaTypes">): string {
  const gzip = (options.compression ?? "gzip") === "gzip";
  if (options.mediaTypes === "docker") {
    if (!gzip) {
      throw new PolypackError("LAYER_OPTIONS_INVALID", "Docker media types have no uncompressed layer type", {
        hint: "use OCI media types or gzip compression",
      });
    }
    return MediaType.dockerLayerGzip;
  }
  return gzip ? MediaType.ociLayerGzip : MediaType.ociLayer;
}

/**
 * Writes a layer blob into `sink` in one pass. A gzip layer is a series of gzip members (see
 * README.md), compressed in parallel and emitted in order; the tar is hashed for the diffID as it
 * is produced and the blob as it goes into the sink. Backpressure flows from the sink back to the
 * file reads, so memory stays bounded whatever the layer's size.
 */
export async function writeLayer(
  entries: Iterable<LayerEntry>,
  sink: Writable,
  options: LayerOptions = {},
): Promise<WrittenLayer> {
  const mediaType = layerMediaType(options);
  if ((options.compression ?? "gzip") === "none") {
    const tar = verifyingStream({}, "layer tar");
    await tapped(options.tarTap, () =>
      pipeline([Readable.from(teed(tarStream(entries, options), options.tarTap)), tar, sink]),
    );
    const diffID = tar.digest().toString();
    const descriptor = { mediaType, digest: diffID, size: tar.bytes };
    return { descriptor, diffID, uncompressedSize: tar.bytes };
  }
  const level = options.compressionLevel ?? DEFAULT_GZIP_LEVEL;
  checkGzipLevel(level);
  const { segmentThreshold, memberSize } = segmentation(options);
  const parallelism = checkParallelism(options.parallelism ?? defaultParallelism());
  const cache = options.memberCache === undefined ? undefined : new MemberCache(options.memberCache, level);
  const layer = await tapped(options.tarTap, () =>
    writeGzipLayer(prepareEntries(entries), sink, {
      level,
      parallelism,
      segmentThreshold,
      memberSize,
      headerOptions: tarHeaderOptions(options),
      cache,
      tarTap: options.tarTap,
    }),
  );
  return {
    descriptor: { mediaType, digest: layer.digest, size: layer.size },
    diffID: layer.diffID,
    uncompressedSize: layer.uncompressedSize,
    members: layer.members,
  };
}

/** Runs a write, then ends the tap; a write that fails destroys it, so its reader stops too. */
async function tapped<T>(tap: Writable | undefined, write: () => Promise<T>): Promise<T> {
  try {
    const result = await write();
    tap?.end();
    return result;
  } catch (error) {
    tap?.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Writes a layer blob to a file, atomically: nothing appears at `path` unless it completes. */
export async function writeLayerFile(
  entries: Iterable<LayerEntry>,
  path: string,
  options: LayerOptions = {},
): Promise<WrittenLayer> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  try {
    // Opened before the data flows, so a failure cannot leave a lazily created file behind.
    const file = await open(temp, "w", 0o644);
    const layer = await writeLayer(entries, file.createWriteStream(), options);
    await rename(temp, path);
    return layer;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
