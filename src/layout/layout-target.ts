import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { ContentTarget, PutBlobOptions, PutBlobResult } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { withRefs, withUnnamed } from "./layout-files.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
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
  /** Every tag call, to replay into a layout another writer created meanwhile (see create). */
  private readonly tagCalls: { descriptor: Descriptor; tags: readonly string[] }[] = [];
  /** Where a layout written whole (see create) goes when it is committed. */
  private finalPath: string | undefined;

  constructor(
    /** The layout written into. */
    readonly layout: OciLayout,
    name?: string,
  ) {
    this.name = name ?? `oci:${layout.path}`;
  }

  /**
   * A target writing into the layout at `path`, created if missing: blobs by digest as they come,
   * index.json last. With `whole`, a layout that does not exist yet is written in a directory
   * beside `path` and renamed into place by commit, so a failed write leaves nothing at `path`; if
   * another writer created the layout meanwhile, what this one wrote is moved into it instead.
   */
  static async create(path: string, options: { whole?: boolean } = {}): Promise<LayoutTarget> {
    if (!options.whole || existsSync(path)) return new LayoutTarget(await OciLayout.create(path));
    await mkdir(dirname(path), { recursive: true });
    const work = `${tempPathBeside(path)}.d`;
    const target = new LayoutTarget(await OciLayout.create(work), `oci:${path}`);
    target.finalPath = path;
    return target;
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
    return this.layout.putBlob(descriptor, open, options);
  }

  /** Whether the manifest is stored. */
  hasManifest(descriptor: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(descriptor);
  }

  /** Stores a manifest or index under its digest, after checking size cap, digest and size. */
  async putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new PolypackError(
        "SIZE_EXCEEDED",
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
    this.tagCalls.push({ descriptor, tags });
  }

  /**
   * Names the root DEFAULT_REF when no tag was given, so that tools which need a ref (skopeo, for
   * an index.json with more than one entry) find it; otherwise records what was verified.
   */
  async commit(): Promise<void> {
    if (!this.tagged && this.lastManifest) await this.tag(this.lastManifest, [DEFAULT_REF]);
    else await this.layout.saveVerified();
    if (this.finalPath) await this.moveIntoPlace(this.finalPath);
  }

  /** Renames the new layout into place, or moves its content into one that appeared meanwhile. */
  private async moveIntoPlace(path: string): Promise<void> {
    try {
      await rename(this.layout.path, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      const existing = new LayoutTarget(await OciLayout.create(path));
      for (const digest of await this.layout.listBlobs()) {
        const descriptor = { mediaType: "", digest: digest.toString(), size: 0 };
        const { size } = await stat(this.layout.blobPath(digest));
        const blob = { ...descriptor, size };
        await existing.putBlob(blob, () => this.layout.openBlob(blob), {
          spool: this.layout.blobPath(digest),
        });
      }
      for (const { descriptor, tags } of this.tagCalls) await existing.tag(descriptor, tags);
      await existing.commit();
      await rm(this.layout.path, { recursive: true, force: true });
    }
    forgetTemp(this.layout.path.slice(0, -".d".length));
  }

  /**
   * Nothing is named. In an existing layout the blobs written stay (they are addressed by digest)
   * and are recorded as verified; a new layout is removed whole.
   */
  async abort(): Promise<void> {
    if (!this.finalPath) return this.layout.saveVerified();
    await rm(this.layout.path, { recursive: true, force: true });
    forgetTemp(this.layout.path.slice(0, -".d".length));
  }
}
