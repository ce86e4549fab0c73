import { existsSync } from "node:fs";
import { rename } from "node:fs/promises";
import { copy, type CopyEvent } from "../copy/copy.js";
import { CnbTarget } from "../layout/cnb-target.js";
import { LayoutSource } from "../layout/layout-source.js";
import { LayoutTarget } from "../layout/layout-target.js";
import type { OciLayout } from "../layout/oci-layout.js";
import type { ContentTarget } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Platform } from "../oci/platform.js";
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
  if (destination.kind === "layout" && !existsSync(destination.path)) {
    await new LayoutTarget(scratch).tag(root, destination.refs);
    await rename(scratch.path, destination.path);
    return [...destination.refs];
  }
  await new LayoutTarget(scratch).tag(root, [SCRATCH_REF]);
  const source = new LayoutSource(scratch, SCRATCH_REF);
  const copyOptions = { ...(onEvent ? { onEvent } : {}) };
  switch (destination.kind) {
    case "layout":
      await copy(source, await LayoutTarget.create(destination.path), {
        ...copyOptions,
        tags: destination.refs,
      });
      return [...destination.refs];
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
