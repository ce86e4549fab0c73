import { createReadStream } from "node:fs";
import { join } from "node:path";
import { PolypackError } from "../errors/index.js";
import type { LayerEntry } from "../layer/entry.js";
import type { OfflineFile } from "./offline.js";
import type { PackagePlan, TargetPlan } from "./plan.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/** Where the bytes of planned files come from. */
export interface EntrySources {
  /** The buildpack directory that `source` paths are relative to. */
  buildpackDir: string;
  /** The downloaded, verified file of an offline dependency, by its checksum (`sha256:<hex>`). */
  dependencyFile?: (checksum: string) => OfflineFile | undefined;
}

/**
 * The layer entries of one target, as formats.md §1 lays them out: the `<id>` and `<version>`
 * directories first, then the buildpack's files below them (the tar writer sorts, and both
 * directories sort before their contents). File contents are opened only when written.
 */
export function targetLayerEntries(
  plan: Pick<PackagePlan, "layerRoot">,
  target: TargetPlan,
  sources: EntrySources,
): LayerEntry[] {
  const root = plan.layerRoot;
  const idDir = root.slice(0, root.lastIndexOf("/"));
  const entries: LayerEntry[] = [
    { path: idDir, type: "directory" },
    { path: root, type: "directory" },
  ];
  for (const file of target.files) {
    const path = `${root}/${file.path}`;
    if (file.type === "directory") entries.push({ path, type: "directory" });
    else if (file.type === "symlink") entries.push({ path, type: "symlink", linkname: file.linkname });
    else if (file.type === "hardlink")
      entries.push({ path, type: "hardlink", mode: file.mode, linkname: `${root}/${file.linkname}` });
    else if ("content" in file) entries.push({ path, type: "file", mode: file.mode, content: file.content });
    else if ("source" in file) {
      const diskPath = join(sources.buildpackDir, file.source);
      entries.push({
        path,
        type: "file",
        mode: file.mode,
        size: file.size,
        open: () => createReadStream(diskPath, { highWaterMark: STREAM_CHUNK_BYTES }),
        file: diskPath,
      });
    } else {
      const downloaded = sources.dependencyFile?.(file.dependency);
      if (downloaded === undefined) {
        throw new PolypackError(
          "DEPENDENCY_NOT_DOWNLOADED",
          `no downloaded file for dependency ${file.dependency}`,
        );
      }
      const { path: diskPath, identity } = downloaded;
      entries.push({
        path,
        type: "file",
        mode: file.mode,
        size: identity.size,
        open: () => createReadStream(diskPath, { highWaterMark: STREAM_CHUNK_BYTES }),
        file: diskPath,
        // Checked against its checksum at this identity; the writer refuses it if it changed since.
        verified: identity,
      });
    }
  }
  return entries;
}
