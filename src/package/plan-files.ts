import { posix } from "node:path";
import { compareArchivePaths } from "../layer/paths.js";
import type { ImageTarget } from "./plan-targets.js";
import { belongsToOtherTarget, isNestedTargetFolder, isWithin, platformRoot } from "./platform-folders.js";
import type { SourceEntry } from "./source-tree.js";

/** One entry of a buildpack's layer, relative to `/cnb/buildpacks/<id>/<version>`. */
export type PlannedFile =
  | { path: string; type: "directory" }
  | { path: string; type: "symlink"; linkname: string }
  /** Another path of a file earlier in the layer (`linkname`, relative to the layer root). */
  | { path: string; type: "hardlink"; mode: number; linkname: string }
  /** A file copied from the buildpack directory (`source` is relative to it). */
  | { path: string; type: "file"; mode: number; size: number; source: string }
  /** A file polypack writes, such as the per-target buildpack.toml. */
  | { path: string; type: "file"; mode: number; content: string }
  /** An offline dependency, taken from the download cache by its checksum. */
  | { path: string; type: "file"; mode: number; dependency: string };

/** A required executable that a target lacks. */
export interface MissingBinary {
  /** The path inside the buildpack, e.g. `bin/detect`. */
  path: string;
  /** Every source path looked at, deepest per-target folder first. */
  lookedFor: string[];
  /** True when the file exists but include-files leaves it out. */
  excludedByIncludeFiles: boolean;
}

/** The files of one target's layer and what is wrong with them. */
export interface FileSelection {
  files: PlannedFile[];
  /** The per-target folder used, when there is one. */
  sourceFolder?: string;
  missingBinaries: MissingBinary[];
  /** include-files entries that name nothing for this target. */
  missingIncludes: string[];
}

/** What the selection needs to know besides the tree and the targets. */
export interface FileSelectionOptions {
  /** `[metadata] include-files`; empty means every file. */
  includeFiles: readonly string[];
  /** The descriptor's file name (`buildpack.toml`); it is generated, so the source copy is left out. */
  descriptorFile: string;
  /** Executables the layer must hold, e.g. `bin/build` and `bin/detect`; empty for composites. */
  requiredBinaries: readonly string[];
}

const ALWAYS_EXECUTABLE = new Set(["bin/build", "bin/detect", "bin/generate"]);

/**
 * Chooses the files of one target's layer as pack does: the per-target folder found by walking down
 * `os`, `os/arch`, `os/arch/variant`, `.../distro@version` while each exists is the buildpack's root
 * for that target, and only its files go in (with the generated buildpack.toml); folders of other
 * targets inside it are left out. Without such a folder the files outside every per-target folder
 * are used. include-files, when given, keeps only the files it names by source or by layer path,
 * root files it names included (a per-target file of the same path wins).
 */
export function selectTargetFiles(
  tree: readonly SourceEntry[],
  target: ImageTarget,
  allTargets: readonly ImageTarget[],
  options: FileSelectionOptions,
): FileSelection {
  const directories = new Set(tree.filter((e) => e.type === "directory").map((e) => e.path));
  const chain = [target.osFolder, ...target.folders];
  let sourceFolder: string | undefined;
  for (const folder of chain) {
    if (!directories.has(folder)) break;
    sourceFolder = folder;
  }
  // An OS folder that holds only other targets' folders would give an empty layer (pack's would hold
  // the other targets' files instead): the root serves that target then.
  if (sourceFolder === target.osFolder && !holdsOwnFiles(tree, sourceFolder, allTargets))
    sourceFolder = undefined;
  const include = options.includeFiles.map(cleanIncludePath).filter((p) => p !== "");
  const chosen = new Map<string, { entry: SourceEntry; source: string }>();
  // Root files serve a target without a folder of its own; with one, only those include-files names
  // (libpak and jam's explicit list, which pack does not read), the folder's own files winning.
  if (sourceFolder === undefined || include.length > 0) {
    for (const entry of tree) {
      if (platformRoot(entry.path) === undefined) chosen.set(entry.path, { entry, source: entry.path });
    }
  }
  if (sourceFolder !== undefined) {
    const otherFolders = allTargets.flatMap((t) => t.folders).filter((f) => f.startsWith(`${sourceFolder}/`));
    for (const entry of tree) {
      if (!entry.path.startsWith(`${sourceFolder}/`)) continue;
      const dest = entry.path.slice(sourceFolder.length + 1);
      if (otherFolders.some((f) => isWithin(entry.path, f)) || isNestedTargetFolder(dest, sourceFolder))
        continue;
      if (entry.type !== "directory") {
        for (const key of [...chosen.keys()]) if (key.startsWith(`${dest}/`)) chosen.delete(key);
      }
      chosen.set(dest, { entry, source: entry.path });
    }
  }
  chosen.delete(options.descriptorFile);
  pruneEmptyPlatformParents(chosen, tree);

  const kept = include.length > 0 ? filterIncluded(chosen, include) : chosen;
  const sorted = [...kept.entries()].sort(([a], [b]) => compareArchivePaths(a, b));
  const firstPathOfInode = new Map<string, string>();
  const files = sorted.map(([path, { entry, source }]): PlannedFile => {
    // pack writes the first path of a multiply linked file (in archive order) and links the others to it.
    if (entry.type === "file" && entry.inode !== undefined) {
      const first = firstPathOfInode.get(entry.inode);
      const mode = ALWAYS_EXECUTABLE.has(path) ? 0o755 : entry.mode;
      if (first !== undefined) return { path, type: "hardlink", mode, linkname: first };
      firstPathOfInode.set(entry.inode, path);
    }
    return plannedFile(path, entry, source);
  });

  const missingBinaries = options.requiredBinaries
    .filter((bin) => !resolvesToFile(kept, bin))
    .map((bin) => ({
      path: bin,
      lookedFor: [...[...chain].reverse().map((folder) => `${folder}/${bin}`), bin],
      excludedByIncludeFiles: include.length > 0 && resolvesToFile(chosen, bin),
    }));
  const keptPaths = [...kept.keys()];
  const missingIncludes = include.filter(
    (wanted) =>
      wanted !== options.descriptorFile &&
      !tree.some((e) => isWithin(e.path, wanted)) &&
      !keptPaths.some((path) => isWithin(path, wanted)) &&
      !belongsToOtherTarget(wanted, target),
  );
  return { files, ...(sourceFolder ? { sourceFolder } : {}), missingBinaries, missingIncludes };
}

function holdsOwnFiles(
  tree: readonly SourceEntry[],
  folder: string,
  allTargets: readonly ImageTarget[],
): boolean {
  const targetFolders = allTargets.flatMap((t) => t.folders);
  return tree.some(
    (e) =>
      e.type !== "directory" &&
      e.path.startsWith(`${folder}/`) &&
      !targetFolders.some((f) => isWithin(e.path, f)),
  );
}

function pruneEmptyPlatformParents(chosen: Map<string, unknown>, tree: readonly SourceEntry[]): void {
  const parents = new Set(
    tree
      .map((e) => platformRoot(e.path))
      .filter((root): root is string => root !== undefined)
      .map((root) => root.split("/")[0]!),
  );
  for (const parent of parents) {
    const hasContent = [...chosen.keys()].some((key) => key.startsWith(`${parent}/`));
    if (!hasContent) chosen.delete(parent);
  }
}

function cleanIncludePath(value: string): string {
  return posix
    .normalize(value.trim())
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "")
    .replace(/^\.$/, "");
}

function filterIncluded<T extends { entry: SourceEntry; source: string }>(
  chosen: Map<string, T>,
  include: readonly string[],
): Map<string, T> {
  const named = (path: string, source: string): boolean =>
    include.some((wanted) => isWithin(path, wanted) || isWithin(source, wanted));
  const kept = new Map<string, T>();
  for (const [path, item] of chosen) {
    if (item.entry.type !== "directory" && named(path, item.source)) kept.set(path, item);
  }
  for (const [path, item] of chosen) {
    if (item.entry.type !== "directory") continue;
    const holdsKept = [...kept.keys()].some((key) => key.startsWith(`${path}/`));
    if (holdsKept || include.some((wanted) => wanted === path || wanted === item.source))
      kept.set(path, item);
  }
  return kept;
}

function plannedFile(path: string, entry: SourceEntry, source: string): PlannedFile {
  switch (entry.type) {
    case "directory":
      return { path, type: "directory" };
    case "symlink":
      return { path, type: "symlink", linkname: entry.linkname ?? "" };
    case "file":
      return {
        path,
        type: "file",
        mode: ALWAYS_EXECUTABLE.has(path) ? 0o755 : entry.mode,
        size: entry.size,
        source,
      };
  }
}

/** Whether `path` is a file, or a chain of relative symlinks inside the layer ending at one. */
function resolvesToFile(files: Map<string, { entry: SourceEntry }>, path: string): boolean {
  let current = path;
  for (let hops = 0; hops < 16; hops++) {
    const entry = files.get(current)?.entry;
    if (entry === undefined) return false;
    if (entry.type === "file") return true;
    if (entry.type !== "symlink" || entry.linkname === undefined || entry.linkname.startsWith("/"))
      return false;
    current = posix.normalize(posix.join(posix.dirname(current), entry.linkname));
  }
  return false;
}
