import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { LayerEntry } from "../layer/entry.js";
import { writeLayerFile, type LayerOptions, type WrittenLayer } from "../layer/write-layer.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
import { makeScratchDir, removeScratchDir } from "../util/scratch-dir.js";
import { spooledLayer, type Layer } from "./blob.js";

/** A layer written into a spool, with how it was written. */
export type SpooledLayer = Layer & { written: WrittenLayer };

/**
 * A directory of layers polypack is writing for an image it is about to store. Put it beside the
 * destination, and a layout or `.cnb` target moves each layer into place instead of copying it
 * (see PutBlobOptions.spool); anything left is removed with the spool.
 */
export class LayerSpool {
  private count = 0;

  private constructor(
    /** The spool directory. */
    readonly dir: string,
    private readonly temp: string | undefined,
  ) {}

  /** A spool beside `near` (on its file system), or in the system's temporary directory. */
  static async create(near?: string): Promise<LayerSpool> {
    if (near === undefined) return new LayerSpool(await makeScratchDir("polypack-spool-"), undefined);
    const temp = tempPathBeside(near);
    await mkdir(`${temp}.d`, { recursive: true });
    return new LayerSpool(`${temp}.d`, temp);
  }

  /** Writes a layer of `entries` into the spool (see writeLayerFile). */
  async write(entries: Iterable<LayerEntry>, options: LayerOptions = {}): Promise<SpooledLayer> {
    const path = join(this.dir, `layer-${++this.count}`);
    const written = await writeLayerFile(entries, path, options);
    return { ...spooledLayer(written.descriptor, written.diffID, path), written };
  }

  /** Removes the spool and whatever is still in it. */
  async remove(): Promise<void> {
    if (this.temp) {
      await rm(this.dir, { recursive: true, force: true });
      forgetTemp(this.temp);
    } else {
      await removeScratchDir(this.dir);
    }
  }
}
