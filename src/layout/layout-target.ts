import type { Readable } from "node:stream";
import { PolypackError } from "../errors.js";
import type { ContentTarget, PutBlobOptions, PutBlobResult } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { withRefs, withUnnamed } from "./layout-files.js";
import { OciLayout } from "./oci-layout.js";

/** The ref name a layout or `.cnb` gives its root when the writer names none, as `pack` and skopeo expect. */
export const DEFAULT_REF = "latest";

/**
 * Writes into an OCI image layout directory. Blobs and manifests are stored by digest as they
 * come; `tag` names the root in index.json last, atomically. When nothing was tagged, `commit`
 * names the last manifest stored (the root, since copies store children first) DEFAULT_REF.
 */
export class LayoutTarget implements ContentTarget {
  /** What to call this target in messages. */
  readonly name: string;
  private lastManifest: Descriptor | undefined;
  private tagged = false;

  constructor(
    /** The layout written into. */
    readonly layout: OciLayout,
    name?: string,
  ) {
    this.name = name ?? `oci:${layout.path}`;
  }

  /** A target writing into the layout at `path`, created if missing. */
  static async create(path: string): Promise<LayoutTarget> {
    return new LayoutTarget(await OciLayout.create(path));
  }

  /** Whether the blob is stored with its declared size. */
  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(descriptor);
  }

  /** Streams a blob into place, verified; an existing blob is not rewritten. */
  putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options: PutBlobOptions = {},
  ): Promise<PutBlobResult> {
    return this.layout.putBlob(descriptor, open, options.onProgress);
  }

  /** Whether the manifest is stored. */
  hasManifest(descriptor: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(descriptor);
  }

  /** Stores a manifest or index under its digest, after checking size cap, digest and size. */
  async putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new PolypackError(
        "MANIFEST_TOO_LARGE",
        `manifest ${descriptor.digest} exceeds ${MAX_MANIFEST_BYTES} bytes`,
      );
    }
    await this.layout.putBytes(bytes, descriptor);
    this.lastManifest = descriptor;
  }

  /** Names a stored manifest with each ref (replacing entries that had the ref), in one atomic write. */
  async tag(descriptor: Descriptor, tags: readonly string[]): Promise<void> {
    if (!(await this.layout.hasBlob(descriptor))) {
      throw new PolypackError(
        "BLOB_NOT_FOUND",
        `cannot name ${descriptor.digest} in ${this.layout.path}: it is not stored there`,
      );
    }
    await this.layout.updateIndex((manifests) =>
      tags.length > 0 ? withRefs(manifests, descriptor, tags) : withUnnamed(manifests, descriptor),
    );
    this.tagged = true;
  }

  /**
   * Names the root DEFAULT_REF when no tag was given, so that tools which need a ref (skopeo, for
   * an index.json with more than one entry) find it; otherwise records what was verified.
   */
  async commit(): Promise<void> {
    if (!this.tagged && this.lastManifest) await this.tag(this.lastManifest, [DEFAULT_REF]);
    else await this.layout.saveVerified();
  }

  /** Nothing is named; the blobs written stay (they are addressed by digest) and are recorded as verified. */
  abort(): Promise<void> {
    return this.layout.saveVerified();
  }
}
