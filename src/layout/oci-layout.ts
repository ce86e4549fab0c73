import type { BigIntStats } from "node:fs";
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { isPolypackError, PolypackError, type ErrorCode } from "../errors/index.js";
import type { PutBlobOptions, PutBlobResult } from "../oci/content.js";
import { descriptorFor, type Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { MAX_MANIFEST_BYTES, type ImageIndex } from "../oci/manifest.js";
import { verifyBytes } from "../oci/verify.js";
import { sweepStaleTemps, writeFileAtomic } from "../util/fs.js";
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
import { withLayoutLock } from "./layout-lock.js";
import type { LayoutReader } from "./layout-reader.js";
import { nowNs } from "../util/file-identity.js";
import { STATE_DIR, VerifiedBlobs } from "./verified-blobs.js";

const MAX_OCI_LAYOUT_BYTES = 64 * 1024;

/**
 * An OCI image layout directory: `oci-layout`, `index.json` and `blobs/<alg>/<hex>`. Blobs are
 * written through a temporary file and renamed once verified; a blob file counts as present only
 * when polypack can vouch for its bytes (see hasBlob). index.json is replaced atomically, under a
 * lock file shared with other processes, so concurrent writers lose no update.
 */
export class OciLayout implements LayoutReader {
  private indexUpdates: Promise<unknown> = Promise.resolve();
  private readonly verified: VerifiedBlobs;
  /** Hashes of blob files in progress or done, by digest and file identity, so each runs once. */
  private readonly hashed = new Map<string, Promise<boolean>>();

  private constructor(
    /** The layout directory. */
    readonly path: string,
  ) {
    this.verified = VerifiedBlobs.of(path);
  }

  /** Opens an existing layout, checking `oci-layout` and `index.json`. */
  static async open(path: string): Promise<OciLayout> {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new PolypackError("PATH_NOT_FOUND", `${path} is not a directory holding an OCI image layout`);
    }
    const layout = new OciLayout(path);
    const marker = await readFileCapped(layout.file(OCI_LAYOUT_FILE), MAX_OCI_LAYOUT_BYTES, "layout marker");
    if (marker === undefined) throw layoutInvalid(`${path} has no ${OCI_LAYOUT_FILE} file`);
    checkOciLayoutFile(marker, layout.file(OCI_LAYOUT_FILE));
    await layout.readIndex();
    return layout;
  }

  /**
   * Opens the layout at `path` for writing, creating the directory and its files where missing.
   * Temporary files that interrupted runs left in it (or beside it) are removed first.
   */
  static async create(path: string): Promise<OciLayout> {
    await mkdir(path, { recursive: true });
    await sweepLayoutTemps(path);
    const layout = new OciLayout(path);
    // Under the lock: another process creating the same layout may already have tagged into the
    // index.json this one found missing a moment ago, and an empty one must not replace it.
    await withLayoutLock(path, async () => {
      const marker = layout.file(OCI_LAYOUT_FILE);
      if ((await readFileCapped(marker, MAX_OCI_LAYOUT_BYTES, "layout marker")) === undefined) {
        await writeFileAtomic(marker, encodeOciLayoutFile());
      }
      if ((await readFileCapped(layout.file(INDEX_FILE), MAX_MANIFEST_BYTES, "layout index")) === undefined) {
        await writeFileAtomic(layout.file(INDEX_FILE), encodeIndexFile([]));
      }
    });
    return OciLayout.open(path);
  }

  /** Where a blob lives; the path is built from a parsed digest only. */
  blobPath(digest: Digest | string): string {
    const parsed = typeof digest === "string" ? Digest.parse(digest, `layout ${this.path}`) : digest;
    return join(this.path, blobRelativePath(parsed));
  }

  /**
   * Whether the blob is present: a file of the declared size whose bytes polypack has verified
   * with the file's current identity (see VerifiedBlobs). Any other file of the right size is
   * hashed now; a file that does not match its digest is not present (and is replaced by putBlob).
   */
  async hasBlob(descriptor: Pick<Descriptor, "digest" | "size">): Promise<boolean> {
    const path = this.blobPath(descriptor.digest);
    const lookedAt = nowNs();
    const info = await stat(path, { bigint: true }).catch(() => undefined);
    if (!info?.isFile() || info.size !== BigInt(descriptor.size)) return false;
    if (await this.verified.trusted(descriptor.digest, info)) return true;
    const key = [descriptor.digest, info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(" ");
    let check = this.hashed.get(key);
    if (!check) {
      check = this.hashMatches(path, descriptor).then((matches) => {
        if (matches) this.verified.note(descriptor.digest, info, lookedAt);
        return matches;
      });
      this.hashed.set(key, check);
      check.catch(() => this.hashed.delete(key));
    }
    return check;
  }

  /**
   * Stores a blob from a stream opened only when needed; a present blob is kept as it is. A
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
      // Hashed by polypack as it was written into the spool, moments ago.
      await this.noteWritten(descriptor.digest, path);
      options.onProgress?.(descriptor.size);
      return "moved";
    }
    const context = `blob written to ${this.path}`;
    await writeVerifiedFile(path, descriptor, open, context, options.onProgress);
    await this.noteWritten(descriptor.digest, path);
    return "uploaded";
  }

  /** Stores bytes held in memory (manifests, configs); checks them when a descriptor is given. */
  async putBytes(bytes: Buffer, descriptor: Descriptor): Promise<PutBlobResult> {
    verifyBytes(bytes, descriptor, `blob written to ${this.path}`);
    if (await this.hasBlob(descriptor)) return "exists";
    const path = this.blobPath(descriptor.digest);
    await writeFileAtomic(path, bytes);
    await this.noteWritten(descriptor.digest, path);
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
   * rename), holding the layout lock so that updates from other processes are not lost; updates
   * within this process queue up first. What this process verified is recorded at the same time.
   */
  async updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): Promise<ImageIndex> {
    const update = this.indexUpdates.then(() =>
      withLayoutLock(this.path, async () => {
        const index = await this.readIndex();
        const manifests = change([...index.manifests]);
        await writeFileAtomic(this.file(INDEX_FILE), encodeIndexFile(manifests, index.annotations));
        // The records only spare later runs some hashing: failing to save them fails nothing.
        await this.verified.flush().catch(() => undefined);
        return { ...index, manifests };
      }),
    );
    this.indexUpdates = update.catch(() => undefined);
    return update;
  }

  /**
   * Records the blobs this process verified, so later runs need not hash them again. Best effort:
   * a record that cannot be saved only costs a later run a hash.
   */
  async saveVerified(): Promise<void> {
    if (!this.verified.unsaved) return;
    const save = this.indexUpdates
      .then(() => withLayoutLock(this.path, () => this.verified.flush()))
      .catch(() => undefined);
    this.indexUpdates = save;
    return save;
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

  /** Whether the file's bytes match the descriptor; false on a mismatch, an error on a failed read. */
  private async hashMatches(path: string, descriptor: Pick<Descriptor, "digest" | "size">): Promise<boolean> {
    const stream = openVerifiedFile(path, { mediaType: "", ...descriptor }, `blob ${path}`);
    try {
      for await (const _chunk of stream) {
        // Only the verdict at the end matters.
      }
      return true;
    } catch (error) {
      if (MISMATCH_CODES.some((code) => isPolypackError(error, code))) return false;
      throw error;
    }
  }

  private async noteWritten(digest: string, path: string): Promise<void> {
    const lookedAt = nowNs();
    const info: BigIntStats = await stat(path, { bigint: true });
    this.verified.note(digest, info, lookedAt);
  }
}

/** What a stream over a blob file fails with when the file does not hold the blob. */
const MISMATCH_CODES: readonly ErrorCode[] = ["DIGEST_MISMATCH", "SIZE_MISMATCH"];

/**
 * Removes temporaries of interrupted runs: in the layout's own folders (blob, index.json and state
 * writes) and beside it (a new layout written whole, or a package run's layer spool).
 */
async function sweepLayoutTemps(path: string): Promise<void> {
  const folders = [path, join(path, STATE_DIR), join(path, "blobs")];
  const algorithms = await readdir(join(path, "blobs")).catch(() => [] as string[]);
  folders.push(...algorithms.map((algorithm) => join(path, "blobs", algorithm)));
  for (const folder of folders) await sweepStaleTemps(folder);
  await sweepStaleTemps(dirname(path), basename(path));
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
