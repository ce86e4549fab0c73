import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { PolypackError } from "../errors.js";
import type { PutBlobOptions, PutBlobResult } from "../oci/content.js";
import { descriptorFor, type Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { MAX_MANIFEST_BYTES, type ImageIndex } from "../oci/manifest.js";
import { verifyBytes } from "../oci/verify.js";
import { writeFileAtomic } from "../util/fs.js";
import { openVerifiedFile, readFileCapped, writeVerifiedFile } from "./blob-files.js";
import {
  blobRelativePath,
  checkOciLayoutFile,
  encodeIndexFile,
  encodeOciLayoutFile,
  INDEX_FILE,
  layoutInvalid,
  OCI_LAYOUT_FILE,
  parseIndexFile,
} from "./layout-files.js";
import type { LayoutReader } from "./layout-reader.js";

const MAX_OCI_LAYOUT_BYTES = 64 * 1024;

/**
 * An OCI image layout directory: `oci-layout`, `index.json` and `blobs/<alg>/<hex>`. Blobs are
 * written through a temporary file and renamed once verified; index.json is replaced atomically,
 * and updates from this process are applied one at a time.
 */
export class OciLayout implements LayoutReader {
  private indexUpdates: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The layout directory. */
    readonly path: string,
  ) {}

  /** Opens an existing layout, checking `oci-layout` and `index.json`. */
  static async open(path: string): Promise<OciLayout> {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new PolypackError("LAYOUT_NOT_FOUND", `${path} is not a directory holding an OCI image layout`);
    }
    const layout = new OciLayout(path);
    const marker = await readFileCapped(layout.file(OCI_LAYOUT_FILE), MAX_OCI_LAYOUT_BYTES, "layout marker");
    if (marker === undefined) throw layoutInvalid(`${path} has no ${OCI_LAYOUT_FILE} file`);
    checkOciLayoutFile(marker, layout.file(OCI_LAYOUT_FILE));
    await layout.readIndex();
    return layout;
  }

  /** Opens the layout at `path`, creating the directory and its files where missing. */
  static async create(path: string): Promise<OciLayout> {
    await mkdir(path, { recursive: true });
    const layout = new OciLayout(path);
    if (
      (await readFileCapped(layout.file(OCI_LAYOUT_FILE), MAX_OCI_LAYOUT_BYTES, "layout marker")) ===
      undefined
    ) {
      await writeFileAtomic(layout.file(OCI_LAYOUT_FILE), encodeOciLayoutFile());
    }
    if ((await readFileCapped(layout.file(INDEX_FILE), MAX_MANIFEST_BYTES, "layout index")) === undefined) {
      await writeFileAtomic(layout.file(INDEX_FILE), encodeIndexFile([]));
    }
    return OciLayout.open(path);
  }

  /** Where a blob lives; the path is built from a parsed digest only. */
  blobPath(digest: Digest | string): string {
    const parsed = typeof digest === "string" ? Digest.parse(digest, `layout ${this.path}`) : digest;
    return join(this.path, blobRelativePath(parsed));
  }

  /** Whether the blob is present with the declared size (content is verified when read). */
  async hasBlob(descriptor: Pick<Descriptor, "digest" | "size">): Promise<boolean> {
    const info = await stat(this.blobPath(descriptor.digest)).catch(() => undefined);
    return info?.isFile() === true && info.size === descriptor.size;
  }

  /**
   * Stores a blob from a stream opened only when needed; an existing blob is kept as it is. A
   * `spool` file (see PutBlobOptions) on the same file system is moved into place instead.
   */
  async putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options: Pick<PutBlobOptions, "onProgress" | "spool"> = {},
  ): Promise<PutBlobResult> {
    if (await this.hasBlob(descriptor)) return "exists";
    const path = this.blobPath(descriptor.digest);
    await mkdir(dirname(path), { recursive: true });
    if (options.spool && (await moved(options.spool, path, descriptor.size))) {
      options.onProgress?.(descriptor.size);
      return "moved";
    }
    const context = `blob written to ${this.path}`;
    await writeVerifiedFile(path, descriptor, await open(), context, options.onProgress);
    return "uploaded";
  }

  /** Stores bytes held in memory (manifests, configs); checks them when a descriptor is given. */
  async putBytes(bytes: Buffer, descriptor: Descriptor): Promise<PutBlobResult> {
    verifyBytes(bytes, descriptor, `blob written to ${this.path}`);
    if (await this.hasBlob(descriptor)) return "exists";
    await writeFileAtomic(this.blobPath(descriptor.digest), bytes);
    return "uploaded";
  }

  /** Stores JSON-ready bytes under a media type and returns their descriptor. */
  async putBytesAs(mediaType: string, bytes: Buffer): Promise<Descriptor> {
    const descriptor = descriptorFor(mediaType, bytes);
    await this.putBytes(bytes, descriptor);
    return descriptor;
  }

  /** A blob as a verifying stream; BLOB_NOT_FOUND when the layout lacks it. */
  async openBlob(descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      throw new PolypackError(
        "BLOB_NOT_FOUND",
        `blob ${descriptor.digest} is missing from ${this.path} (${path})`,
      );
    }
    return openVerifiedFile(path, descriptor, `blob ${path}`);
  }

  /** The parsed `index.json`. */
  async readIndex(): Promise<ImageIndex> {
    const where = this.file(INDEX_FILE);
    const bytes = await readFileCapped(where, MAX_MANIFEST_BYTES, "layout index");
    if (bytes === undefined) throw layoutInvalid(`${this.path} has no ${INDEX_FILE} file`);
    return parseIndexFile(bytes, where);
  }

  /**
   * Rewrites `index.json` with the entries `change` returns, atomically (temporary file, then
   * rename). Updates within this process run one after another so none is lost.
   */
  async updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): Promise<ImageIndex> {
    const update = this.indexUpdates.then(async () => {
      const index = await this.readIndex();
      const manifests = change([...index.manifests]);
      await writeFileAtomic(this.file(INDEX_FILE), encodeIndexFile(manifests, index.annotations));
      return { ...index, manifests };
    });
    this.indexUpdates = update.catch(() => undefined);
    return update;
  }

  /** The digests of every blob stored, skipping temporary files. */
  async listBlobs(): Promise<Digest[]> {
    const digests: Digest[] = [];
    for (const algorithm of ["sha256", "sha512"]) {
      const names = await readdir(join(this.path, "blobs", algorithm)).catch(() => [] as string[]);
      for (const name of names) {
        const value = `${algorithm}:${name}`;
        if (Digest.isValid(value)) digests.push(Digest.parse(value));
      }
    }
    return digests;
  }

  private file(name: string): string {
    return join(this.path, name);
  }
}

/** Moves a spool file of the expected size to `path`; false when it is not there or on another file system. */
async function moved(spool: string, path: string, size: number): Promise<boolean> {
  const info = await stat(spool).catch(() => undefined);
  if (!info?.isFile() || info.size !== size) return false;
  try {
    await rename(spool, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EXDEV") return false;
    throw error;
  }
}
