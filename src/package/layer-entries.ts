import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { PolypackError } from "../errors.js";
import type { LayerEntry } from "../layer/entry.js";
import type { PackagePlan, TargetPlan } from "./plan.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/** Where the bytes of planned files come from. */
export interface EntrySources {
  /** The buildpack directory that `source` paths are relative to. */
  buildpackDir: string;
  /** The downloaded file of an offline dependency, by its checksum (`sha256:<hex>`). */
  dependencyFile?: (checksum: string) => string | undefined;
}

/**
 * The layer entries of one target, as formats.md §1 lays them out: the `<id>` and `<version>`
 * directories first, then the buildpack's files below them (the tar writer sorts, and both
 * directories sort before their contents). File contents are opened only when written.
 */
export async function targetLayerEntries(
  plan: Pick<PackagePlan, "layerRoot">,
  target: TargetPlan,
  sources: EntrySources,
): Promise<LayerEntry[]> {
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
      const diskPath = sources.dependencyFile?.(file.dependency);
      if (diskPath === undefined) {
        throw new PolypackError(
          "DEPENDENCY_NOT_DOWNLOADED",
          `no downloaded file for dependency ${file.dependency}`,
          {
            userError: false,
          },
        );
      }
      const { size, dev, ino, mtimeNs } = await stat(diskPath, { bigint: true });
      entries.push({
        path,
        type: "file",
        mode: file.mode,
        size: Number(size),
        open: () => createReadStream(diskPath, { highWaterMark: STREAM_CHUNK_BYTES }),
        // The download cache verified the file against its checksum when it stored it, and the
        // file is replaced, never edited, so its checksum and stat say whether it is the same.
        identity: `${file.dependency} ${dev}:${ino}:${size}:${mtimeNs}`,
        file: diskPath,
      });
    }
  }
  return entries;
}
