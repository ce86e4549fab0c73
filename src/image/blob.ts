import { createReadStream } from "node:fs";
import { pipeline, Readable } from "node:stream";
import type { ContentSource, RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { STREAM_CHUNK_BYTES, verifyingStream } from "../oci/verify.js";

/**
 * A blob an image needs (its config or a layer), by reference: what it is, how to read it, and
 * where else it already lives, so a writer can skip, mount or move it instead of copying bytes.
 */
export interface Blob {
  readonly descriptor: Descriptor;
  /** The bytes, as a stream that fails (instead of ending) when they do not match the descriptor. */
  open(): Promise<Readable>;
  /** The registry repository holding it, so a target on the same registry can mount it. */
  readonly location?: RegistryLocation | undefined;
  /**
   * A local file holding exactly these bytes, written and hashed by polypack moments ago, that a
   * target on the same file system may move into place instead of copying (the file is given up).
   */
  readonly spool?: string | undefined;
  /** Whether a failed read may succeed when the blob is opened again (see ContentSource.refetchable). */
  refetchable?(error: unknown): boolean;
}

/** A layer: a blob, and the digest of its uncompressed content (its diffID). */
export interface Layer extends Blob {
  readonly diffID: string;
}

/** A blob of a content source (registry, layout or `.cnb`), read only when opened. */
export function sourceBlob(source: ContentSource, descriptor: Descriptor): Blob {
  return {
    descriptor,
    open: () => source.openBlob(descriptor),
    ...(source.location ? { location: source.location } : {}),
    ...(source.refetchable ? { refetchable: (error: unknown) => source.refetchable!(error) } : {}),
  };
}

/** A layer of a content source, read only when opened. */
export function sourceLayer(source: ContentSource, descriptor: Descriptor, diffID: string): Layer {
  return { ...sourceBlob(source, descriptor), diffID };
}

/**
 * A layer polypack has just written to a file of its own (see writeLayerFile), hashed as it was
 * written. A writer may move the file into a target; read it, and it is checked again.
 */
export function spooledLayer(descriptor: Descriptor, diffID: string, path: string): Layer {
  return {
    descriptor,
    diffID,
    spool: path,
    open: () =>
      Promise.resolve(
        pipeline(
          createReadStream(path, { highWaterMark: STREAM_CHUNK_BYTES }),
          verifyingStream(descriptor, `layer file ${path}`),
          // Failures reach the reader through the returned stream.
          () => undefined,
        ),
      ),
  };
}

/** A blob held in memory (a config or a small generated layer). */
export function bytesBlob(descriptor: Descriptor, bytes: Buffer): Blob {
  return {
    descriptor,
    open: () => Promise.resolve(Readable.from([bytes])),
  };
}
