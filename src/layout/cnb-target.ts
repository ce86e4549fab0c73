import { mkdir, rm } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Readable } from "node:stream";
import type { ContentTarget, PutBlobOptions, PutBlobResult } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES, parseManifest } from "../oci/manifest.js";
import { isIndexMediaType } from "../oci/media-types.js";
import type { Platform } from "../oci/platform.js";
import { forgetTemp, sweepStaleTemps, tempPathBeside } from "../util/fs.js";
import { choosePackManifest, withPackManifest } from "./cnb-index.js";
import { writeLayoutArchive } from "./cnb-tar.js";
import { readBlobCapped } from "./layout-reader.js";
import { LayoutTarget } from "./layout-target.js";
import { OciLayout } from "./oci-layout.js";

/** Options for writing a `.cnb` file. */
export interface CnbTargetOptions {
  /** For a multi-arch file, the platform whose manifest pack reads (default linux/amd64, else the first). */
  packPlatform?: Platform;
}

/**
 * Writes a `.cnb` file. Content is collected in a temporary layout directory beside the output;
 * `commit` writes the archive to a temporary file and renames it into place, `abort` removes
 * everything, so the output path never holds a partial file.
 */
export class CnbTarget implements ContentTarget {
  /** What to call this target in messages. */
  readonly name: string;

  private constructor(
    /** The `.cnb` file to write. */
    readonly path: string,
    private readonly work: LayoutTarget,
    /** The temporary name the working layout was made from (it is that name plus `.d`). */
    private readonly workTemp: string,
    private readonly options: CnbTargetOptions,
  ) {
    this.name = `oci-archive:${path}`;
  }

  /**
   * Prepares to write `path`; nothing appears there before commit. Temporaries that interrupted
   * runs left beside `path` are removed first.
   */
  static async create(path: string, options: CnbTargetOptions = {}): Promise<CnbTarget> {
    await mkdir(dirname(path), { recursive: true });
    await sweepStaleTemps(dirname(path), basename(path));
    const workTemp = tempPathBeside(path);
    try {
      const work = new LayoutTarget(await OciLayout.create(`${workTemp}.d`));
      return new CnbTarget(path, work, workTemp, options);
    } catch (error) {
      await rm(`${workTemp}.d`, { recursive: true, force: true });
      forgetTemp(workTemp);
      throw error;
    }
  }

  /** Whether the blob was already written. */
  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.work.hasBlob(descriptor);
  }

  /** Streams a blob into the working layout, verified. */
  putBlob(
    descriptor: Descriptor,
    open: () => Promise<Readable>,
    options?: PutBlobOptions,
  ): Promise<PutBlobResult> {
    return this.work.putBlob(descriptor, open, options);
  }

  /** Whether the manifest was already written. */
  hasManifest(descriptor: Descriptor): Promise<boolean> {
    return this.work.hasManifest(descriptor);
  }

  /** Stores a manifest or index under its digest. */
  putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    return this.work.putManifest(descriptor, bytes);
  }

  /** Names the root with each ref in index.json. */
  tag(descriptor: Descriptor, tags: readonly string[]): Promise<void> {
    return this.work.tag(descriptor, tags);
  }

  /** Completes index.json (adding the manifest pack reads, for an index) and writes the archive. */
  async commit(): Promise<void> {
    await this.work.commit();
    const layout = this.work.layout;
    const { manifests } = await layout.readIndex();
    const root = manifests.find((entry) => isIndexMediaType(entry.mediaType));
    if (root) {
      const bytes = await readBlobCapped(layout, root, MAX_MANIFEST_BYTES, "index");
      const parsed = parseManifest(bytes, root.mediaType, `index ${root.digest}`);
      if (parsed.kind === "index") {
        const packManifest = choosePackManifest(parsed.index, this.options.packPlatform);
        await layout.updateIndex((current) => withPackManifest(current, packManifest));
      }
    }
    await writeLayoutArchive(layout, this.path);
    await this.removeWork();
  }

  /** Removes the working layout; the output path is left as it was. */
  abort(): Promise<void> {
    return this.removeWork();
  }

  private async removeWork(): Promise<void> {
    await rm(this.work.layout.path, { recursive: true, force: true });
    forgetTemp(this.workTemp);
  }
}
