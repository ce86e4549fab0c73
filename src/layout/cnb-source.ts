import { CnbArchive } from "./cnb-archive.js";
import { LayoutSource } from "./layout-source.js";

/**
 * Reads a buildpackage from a `.cnb` file as written by pack (names with a leading `/`, Docker
 * media types, one unnamed manifest), by other tools (relative names) or by polypack (a multi-arch
 * index named by ref plus one platform's manifest for pack; see README.md).
 */
export class CnbSource extends LayoutSource {
  /** Opens the archive at `path`; `ref` picks an image by its ref name. */
  static override async open(path: string, ref?: string): Promise<CnbSource> {
    return new CnbSource(await CnbArchive.open(path), ref, "oci-archive");
  }
}
