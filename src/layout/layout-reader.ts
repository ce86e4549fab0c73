import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { ImageIndex } from "../oci/manifest.js";
import { readCapped } from "../util/streams.js";

/** Read access to an OCI image layout, whether a directory or a `.cnb` archive. */
export interface LayoutReader {
  /** The directory or file, for messages. */
  readonly path: string;
  /** The parsed `index.json`. */
  readIndex(): Promise<ImageIndex>;
  /** A blob as a stream that fails instead of ending when it does not match the descriptor. */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}

/**
 * A whole blob in memory, for manifests and configs: refused before reading when the descriptor
 * declares more than `maxBytes`, and verified against the descriptor.
 */
export async function readBlobCapped(
  reader: LayoutReader,
  descriptor: Descriptor,
  maxBytes: number,
  what = "blob",
): Promise<Buffer> {
  // openBlob's stream checks digest and size itself; hashing the bytes again here would only repeat it.
  return readCapped(() => reader.openBlob(descriptor), maxBytes, {
    declaredSize: descriptor.size,
    tooLarge: () =>
      new PolypackError(
        "SIZE_EXCEEDED",
        `${what} ${descriptor.digest} in ${reader.path} has ${descriptor.size} bytes, more than the ${maxBytes} allowed`,
      ),
  });
}
