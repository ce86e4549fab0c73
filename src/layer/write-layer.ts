import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PolypackError } from "../errors.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digester } from "../oci/digest.js";
import { MediaType } from "../oci/media-types.js";
import { tempPathBeside } from "../util/fs.js";
import type { LayerEntry } from "./entry.js";
import { createLayerGzip, DEFAULT_GZIP_LEVEL, gzipHeaderNormalizer } from "./gzip.js";
import { hashingTap } from "./stream-util.js";
import { tarStream, type TarOptions } from "./tar-writer.js";

/** How a layer blob is written. */
export interface LayerOptions extends TarOptions {
  /** gzip (default) or none (a plain tar). */
  compression?: "gzip" | "none";
  /** gzip level 0-9 (default 6, as pack). */
  compressionLevel?: number;
  /** OCI (default) or Docker layer media types. */
  mediaTypes?: "oci" | "docker";
}

/** A written layer: its blob descriptor and the digest of its uncompressed tar. */
export interface WrittenLayer {
  /** Descriptor of the blob as stored (compressed). */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar, for rootfs.diff_ids and pack's layerDiffID. */
  diffID: string;
  /** Size of the uncompressed tar. */
  uncompressedSize: number;
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
 * Writes a layer blob into `sink` in one pass: the tar is hashed for the diffID, compressed, and
 * the blob hashed and counted on its way into the sink. Backpressure flows from the sink back to
 * the file reads, so memory stays flat whatever the layer's size.
 */
export async function writeLayer(
  entries: Iterable<LayerEntry>,
  sink: Writable,
  options: LayerOptions = {},
): Promise<WrittenLayer> {
  const mediaType = layerMediaType(options);
  const tar = new Digester();
  const blob = new Digester();
  const gzip = (options.compression ?? "gzip") === "gzip";
  const compress = gzip
    ? [
        createLayerGzip(options.compressionLevel ?? DEFAULT_GZIP_LEVEL),
        gzipHeaderNormalizer(),
        hashingTap(blob),
      ]
    : [];
  await pipeline([Readable.from(tarStream(entries, options)), hashingTap(tar), ...compress, sink]);
  const diffID = tar.digest().toString();
  const descriptor = gzip
    ? { mediaType, digest: blob.digest().toString(), size: blob.size }
    : { mediaType, digest: diffID, size: tar.size };
  return { descriptor, diffID, uncompressedSize: tar.size };
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
    const layer = await writeLayer(entries, createWriteStream(temp, { mode: 0o644 }), options);
    await rename(temp, path);
    return layer;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
