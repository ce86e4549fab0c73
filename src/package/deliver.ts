import { rm } from "node:fs/promises";
import { extname, resolve } from "node:path";
import type { Artifact } from "../image/image.js";
import { write, type WriteEvent } from "../image/write.js";
import { CnbTarget } from "../layout/cnb-target.js";
import { LayoutTarget } from "../layout/layout-target.js";
import type { ContentTarget } from "../oci/content.js";
import { Platform } from "../oci/platform.js";
import type { BuiltImage } from "./build.js";

/** Where a package goes. */
export type PackageDestination =
  /** An OCI image layout directory; the root is named with each ref. */
  | { kind: "layout"; path: string; refs: readonly string[] }
  /**
   * One `.cnb` file (a multi-arch index when there are several targets); with `perTarget`, as pack
   * writes a multi-target package, one single-platform file per target named by `perTargetFile`.
   */
  | { kind: "file"; path: string; refs: readonly string[]; perTarget?: boolean }
  /**
   * Any content target, usually a registry repository: blobs, children by digest, the index, then
   * the tags (none for a push by digest). `archTags` also tags each child `<tag>-<os>-<arch>[-<variant>]`.
   */
  | { kind: "target"; target: ContentTarget; tags: readonly string[]; archTags?: boolean };

/** Where a destination's layers are best spooled: beside a local output, so they can be moved in. */
export function spoolNear(destination: PackageDestination): string | undefined {
  return destination.kind === "target" ? undefined : resolve(destination.path);
}

/** What delivery did. */
export interface Delivery {
  /** Tags or ref names written, last. */
  tags: string[];
  /** The blobs the destination did not hold before (uploaded, mounted or moved in). */
  written: Set<string>;
  /** The files written, when a `.cnb` package was split into one file per target. */
  files?: string[];
}

/**
 * Writes a built package to its destination with the image model's `write`: blobs the destination
 * lacks (layers spooled beside a local output are moved in, those of other images mounted or
 * streamed), children by digest, the index, tags last. A new layout or a `.cnb` appears whole or
 * not at all; a failure leaves no tag.
 */
export async function deliverPackage(
  root: Artifact,
  images: readonly BuiltImage[],
  destination: PackageDestination,
  onEvent?: (event: WriteEvent) => void,
  beforeTags?: () => Promise<void>,
): Promise<Delivery> {
  const written = new Set<string>();
  const events = (event: WriteEvent): void => {
    if (event.type === "blob-done" && event.result !== "exists") written.add(event.descriptor.digest);
    onEvent?.(event);
  };
  switch (destination.kind) {
    case "layout":
    case "file": {
      if (destination.kind === "file" && destination.perTarget && images.length > 1) {
        return deliverPerTarget(images, destination.path, destination.refs, written, events);
      }
      const target =
        destination.kind === "layout"
          ? await LayoutTarget.create(destination.path, { whole: true })
          : await CnbTarget.create(destination.path);
      await write(root, target, { tags: destination.refs, onEvent: events });
      return { tags: [...destination.refs], written };
    }
    case "target": {
      const { target, tags } = destination;
      await write(root, target, { tags, onEvent: events, ...(beforeTags ? { beforeTags } : {}) });
      const all = [...tags];
      if (destination.archTags && images.length > 1) {
        for (const image of images) {
          const platform = Platform.fromJSON(image.platform);
          const suffix = [platform.toString().replaceAll("/", "-"), platform.osVersion]
            .filter(Boolean)
            .join("-");
          const archTags = tags.map((tag) => `${tag}-${suffix}`);
          if (archTags.length > 0) await target.tag(image.manifest, archTags);
          all.push(...archTags);
        }
      }
      return { tags: all, written };
    }
  }
}

/**
 * pack's name for one target's file of a multi-target `--format file` package:
 * `<name>-<os>-<arch><ext>` (`<name>-<os><ext>` without an arch), the extension kept last.
 * `withVariant` adds `-<variant>`, for targets that pack's name alone cannot tell apart.
 */
export function perTargetFile(path: string, platform: Platform, withVariant = false): string {
  const ext = extname(path);
  const base = path.slice(0, path.length - ext.length);
  const parts = [platform.os, platform.architecture, withVariant ? platform.variant : undefined];
  return `${base}-${parts.filter(Boolean).join("-")}${ext}`;
}

async function deliverPerTarget(
  images: readonly BuiltImage[],
  path: string,
  refs: readonly string[],
  written: Set<string>,
  onEvent: (event: WriteEvent) => void,
): Promise<Delivery> {
  const platforms = images.map((image) => Platform.fromJSON(image.platform));
  const names = platforms.map((platform) => perTargetFile(path, platform));
  const files = platforms.map((platform, i) =>
    names.indexOf(names[i]!) !== names.lastIndexOf(names[i]!)
      ? perTargetFile(path, platform, true)
      : names[i]!,
  );
  const done: string[] = [];
  try {
    for (const [i, image] of images.entries()) {
      // Several files are not one atomic write: those already written go again if a later one fails.
      await write(image.image, await CnbTarget.create(files[i]!), { tags: refs, onEvent });
      done.push(files[i]!);
    }
  } catch (error) {
    await Promise.all(done.map((file) => rm(file, { force: true })));
    throw error;
  }
  return { tags: [...refs], written, files };
}
