import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Digest } from "../oci/digest.js";
import { MAX_MANIFEST_BYTES, type ImageIndex } from "../oci/manifest.js";
import { readLayer } from "../layer/read-layer.js";
import { readCapped } from "../util/streams.js";
import { openVerifiedFile } from "./blob-files.js";
import {
  blobRelativePath,
  checkOciLayoutFile,
  INDEX_FILE,
  layoutInvalid,
  OCI_LAYOUT_FILE,
  parseIndexFile,
} from "./layout-files.js";
import type { LayoutReader } from "./layout-reader.js";

/** Where a file's bytes sit inside the archive. */
interface Member {
  offset: number;
  size: number;
}

/**
 * A `.cnb` file (an uncompressed tar of an OCI image layout) read in place: one pass over the
 * headers records where each file's bytes are, then blobs are streamed straight from their byte
 * range and verified, so nothing is extracted and no blob is held in memory. Names with or
 * without a leading `/` are accepted; a name that climbs out of the root is refused.
 */
export class CnbArchive implements LayoutReader {
  private constructor(
    /** The `.cnb` file. */
    readonly path: string,
    private readonly members: ReadonlyMap<string, Member>,
  ) {}

  /** Indexes the archive and checks that it holds an OCI layout. */
  static async open(path: string): Promise<CnbArchive> {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new PolypackError("PATH_NOT_FOUND", `${path} is not a file`);
    const members = new Map<string, Member>();
    try {
      const entries = readLayer(createReadStream(path), { compression: "none", context: path });
      for await (const entry of entries) {
        if (entry.type !== "file") continue;
        if (members.has(entry.path)) throw layoutInvalid(`${path} holds ${entry.path} twice`);
        members.set(entry.path, { offset: entry.dataOffset, size: entry.size });
      }
    } catch (error) {
      if (error instanceof PolypackError && error.code === "LAYER_INVALID") {
        throw new PolypackError("LAYOUT_INVALID", `${path} is not a .cnb file (an uncompressed tar)`, {
          cause: error,
        });
      }
      throw error;
    }
    const archive = new CnbArchive(path, members);
    const marker = await archive.readMember(OCI_LAYOUT_FILE, 64 * 1024);
    if (marker === undefined)
      throw layoutInvalid(`${path} has no ${OCI_LAYOUT_FILE} file; it is not an OCI layout`);
    checkOciLayoutFile(marker, `${path}:${OCI_LAYOUT_FILE}`);
    await archive.readIndex();
    return archive;
  }

  /** The parsed `index.json`. */
  async readIndex(): Promise<ImageIndex> {
    const bytes = await this.readMember(INDEX_FILE, MAX_MANIFEST_BYTES);
    if (bytes === undefined) throw layoutInvalid(`${this.path} has no ${INDEX_FILE} file`);
    return parseIndexFile(bytes, `${this.path}:${INDEX_FILE}`);
  }

  /** A blob streamed from its place in the archive and verified; BLOB_NOT_FOUND when absent. */
  openBlob(descriptor: Descriptor): Promise<Readable> {
    const name = blobRelativePath(Digest.parse(descriptor.digest, this.path));
    const member = this.members.get(name);
    if (member === undefined) {
      return Promise.reject(
        new PolypackError("BLOB_NOT_FOUND", `blob ${descriptor.digest} is missing from ${this.path}`),
      );
    }
    return Promise.resolve(
      openVerifiedFile(this.path, descriptor, `${this.path}:${name}`, {
        start: member.offset,
        length: member.size,
      }),
    );
  }

  private async readMember(name: string, maxBytes: number): Promise<Buffer | undefined> {
    const member = this.members.get(name);
    if (member === undefined) return undefined;
    if (member.size === 0) return Buffer.alloc(0);
    const end = member.offset + member.size - 1;
    return readCapped(() => createReadStream(this.path, { start: member.offset, end }), maxBytes, {
      declaredSize: member.size,
      tooLarge: () => layoutInvalid(`${this.path}:${name} has ${member.size} bytes, more than ${maxBytes}`),
    });
  }
}
