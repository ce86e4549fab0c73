import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { isManifestMediaType } from "../oci/media-types.js";
import type { LayoutReader } from "./layout-reader.js";
import { readBlobCapped } from "./layout-reader.js";
import { OciLayout } from "./oci-layout.js";
import { selectRoot } from "./select-root.js";

/**
 * Reads one image or index out of an OCI image layout (a directory here, a `.cnb` file through
 * CnbSource), chosen by ref name; see selectRoot for what happens without one.
 */
export class LayoutSource implements ContentSource {
  /** What to call this source in messages, in skopeo's spelling. */
  readonly name: string;

  constructor(
    private readonly reader: LayoutReader,
    private readonly ref?: string,
    transport = "oci",
  ) {
    this.name = `${transport}:${reader.path}${ref === undefined ? "" : `:${ref}`}`;
  }

  /** A source over the layout directory at `path`. */
  static async open(path: string, ref?: string): Promise<LayoutSource> {
    return new LayoutSource(await OciLayout.open(path), ref);
  }

  /** The descriptor of the image or index the ref names (without the layout's ref annotation). */
  async resolve(): Promise<Descriptor> {
    const index = await this.reader.readIndex();
    const root = selectRoot(index.manifests, this.ref, this.name);
    if (!isManifestMediaType(root.mediaType)) {
      throw new PolypackError(
        "MANIFEST_UNSUPPORTED",
        `${this.name} names ${root.digest} of media type ${root.mediaType}, which is not an image or index`,
      );
    }
    return root;
  }

  /** Manifest bytes, capped at MAX_MANIFEST_BYTES and verified against the descriptor. */
  fetchManifest(descriptor: Descriptor): Promise<Buffer> {
    return readBlobCapped(this.reader, descriptor, MAX_MANIFEST_BYTES, "manifest");
  }

  /** A blob as a stream verified against the descriptor. */
  openBlob(descriptor: Descriptor): Promise<Readable> {
    return this.reader.openBlob(descriptor);
  }
}
