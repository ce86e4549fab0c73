import { existsSync } from "node:fs";
import { rename, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { copy, type CopyEvent } from "../copy/copy.js";
import { CnbTarget } from "../layout/cnb-target.js";
import { LayoutSource } from "../layout/layout-source.js";
import { LayoutTarget } from "../layout/layout-target.js";
import { OciLayout } from "../layout/oci-layout.js";
import type { ContentTarget } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MediaType } from "../oci/media-types.js";
import { Platform } from "../oci/platform.js";
import type { StoredBlob } from "../layer/gzip-layer.js";
import { sweepStaleTemps } from "../util/fs.js";
import type { BuiltImage } from "./build.js";

/** Where a package goes. */
export type PackageDestination =
  /** An OCI image layout directory; the root is named with each ref. */
  | { kind: "layout"; path: string; refs: readonly string[] }
  /** One `.cnb` file (a multi-arch index when there are several targets). */
  | { kind: "file"; path: string; refs: readonly string[] }
  /**
   * Any content target, usually a registry repository: blobs, children by digest, the index, then
   * the tags (none for a push by digest). `archTags` also tags each child `<tag>-<os>-<arch>[-<variant>]`.
   */
  | { kind: "target"; target: ContentTarget; tags: readonly string[]; archTags?: boolean };

/**
 * How to ask whether a destination already holds a blob, for the destinations that keep blobs by
 * digest between runs: an existing layout (the blob file, of the right size) and content targets
 * such as registry repositories. A new layout and a `.cnb` file hold nothing yet.
 */
export function storedBlobCheck(
  destination: PackageDestination,
): ((blob: StoredBlob) => Promise<boolean>) | undefined {
  switch (destination.kind) {
    case "layout": {
      if (!existsSync(destination.path)) return undefined;
      // A folder that is not a layout yet (it becomes one on delivery) holds nothing.
      const existing = OciLayout.open(destination.path).catch(() => undefined);
      return async (blob) => (await existing)?.hasBlob(blob) ?? false;
    }
    case "target":
      return ({ digest, size }) =>
        destination.target.hasBlob({ mediaType: MediaType.ociLayerGzip, digest, size });
    case "file":
      return undefined;
  }
}

/** The name the scratch layout gives the root while it is being delivered. */
const SCRATCH_REF = "polypack-package";

/**
 * Moves a built package from its scratch layout to the destination, tags last. A layout that does
 * not exist yet is the scratch layout renamed into place (the scratch must then sit beside it);
 * anything else is a generic copy, so a failure leaves no tag and no partial `.cnb` behind.
 * Returns the tags written.
 */
export async function deliverPackage(
  scratch: OciLayout,
  root: Descriptor,
  images: readonly BuiltImage[],
  destination: PackageDestination,
  onEvent?: (event: CopyEvent) => void,
): Promise<string[]> {
  if (destination.kind === "layout") {
    if (!existsSync(destination.path)) {
      await new LayoutTarget(scratch).tag(root, destination.refs);
      await rename(scratch.path, destination.path);
      // Scratch layouts of interrupted runs sit beside the destination too; an existing layout
      // sweeps them when opened for writing (OciLayout.create), a new one here.
      await sweepStaleTemps(dirname(destination.path), basename(destination.path));
    } else {
      const layout = await OciLayout.create(destination.path);
      await adoptBlobs(scratch, layout);
      await new LayoutTarget(layout).tag(root, destination.refs);
    }
    return [...destination.refs];
  }
  await new LayoutTarget(scratch).tag(root, [SCRATCH_REF]);
  const source = new LayoutSource(scratch, SCRATCH_REF);
  const copyOptions = { ...(onEvent ? { onEvent } : {}) };
  switch (destination.kind) {
    case "file":
      await copy(source, await CnbTarget.create(destination.path), {
        ...copyOptions,
        tags: destination.refs,
      });
      return [...destination.refs];
    case "target": {
      const { target, tags } = destination;
      await copy(source, target, { ...copyOptions, tags });
      const written = [...tags];
      if (destination.archTags && images.length > 1) {
        for (const image of images) {
          const platform = Platform.fromJSON(image.platform);
          const suffix = [platform.toString().replaceAll("/", "-"), platform.osVersion]
            .filter(Boolean)
            .join("-");
          const archTags = tags.map((tag) => `${tag}-${suffix}`);
          if (archTags.length > 0) await target.tag(image.manifest, archTags);
          written.push(...archTags);
        }
      }
      return written;
    }
  }
}

/**
 * Moves the blobs a package run wrote into an existing layout that lacks them. The scratch layout
 * sits beside the destination, so each is a rename: the bytes were hashed as they were written
 * moments ago and are not read again. A blob the destination holds stays as it is, unless its
 * file is not that blob (wrong size or bytes): then the scratch copy replaces it.
 */
async function adoptBlobs(scratch: OciLayout, destination: OciLayout): Promise<void> {
  for (const digest of await scratch.listBlobs()) {
    const file = scratch.blobPath(digest);
    const { size } = await stat(file);
    await destination.adoptVerifiedFile(file, { digest: digest.toString(), size });
  }
}
