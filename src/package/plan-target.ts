import {
  filterDependencies,
  offlineDependencyUri,
  rewriteBuildpackToml,
  type BuildpackDescriptor,
} from "../buildpack/index.js";
import { PolypackError } from "../errors/index.js";
import { compareArchivePaths } from "../layer/paths.js";
import type { PlatformJSON } from "../oci/platform.js";
import type { MissingBinary, PlannedFile } from "./plan-files.js";
import type { PlanOptions } from "./plan.js";
import type { ImageTarget } from "./plan-targets.js";

/** A dependency that goes into one target's buildpack.toml. */
export interface PlannedDependency {
  id: string;
  version: string;
  uri?: string;
  /** `sha256:<hex>` (or sha512) when the entry declares one. */
  checksum?: string;
  /** Where the file sits in the layer when packaged offline, e.g. `dependencies/<hex>`. */
  file?: string;
}

/** Everything about one target's image that is known before any byte is written. */
export interface TargetPlan {
  key: string;
  /** The platform of the image config and of the index entry. */
  platform: PlatformJSON;
  /** The per-target source folder used, if any. */
  sourceFolder?: string;
  /** The layer's entries below the buildpack's root, in archive order. */
  files: PlannedFile[];
  /** The buildpack.toml written into this target's layer. */
  buildpackToml: string;
  dependencies: PlannedDependency[];
}

/** One target's plan: its files plus the generated buildpack.toml and, offline, its dependency files. */
export function planTarget(
  descriptor: BuildpackDescriptor,
  target: ImageTarget,
  selected: PlannedFile[],
  sourceFolder: string | undefined,
  options: PlanOptions,
): TargetPlan {
  const ofTarget = filterDependencies(descriptor, target.target);
  const dependencies: PlannedDependency[] = ofTarget.map((d) => ({
    id: d.id,
    version: d.version,
    ...(d.uri !== undefined ? { uri: d.uri } : {}),
    ...(d.checksum ? { checksum: d.checksum.toString() } : {}),
  }));
  const files: PlannedFile[] = [...selected];
  if (options.offline) {
    const missing = ofTarget.filter((d) => d.checksum === undefined);
    if (missing.length > 0) {
      throw new PolypackError(
        "DEPENDENCY_CHECKSUM_MISSING",
        `${descriptor.file}: dependencies ${missing.map((d) => `"${d.id}" ${d.version} ([[metadata.dependencies]][${d.index}])`).join(", ")} ` +
          `have no checksum, so they cannot be packaged offline for ${target.key}`,
        { hint: 'add checksum = "sha256:<hex>" to each, or package without --offline' },
      );
    }
    const hexes = new Set<string>();
    for (const dependency of dependencies) {
      const hex = dependency.checksum!.split(":")[1]!;
      dependency.file = `dependencies/${hex}`;
      if (!hexes.has(hex))
        files.push({ path: dependency.file, type: "file", mode: 0o644, dependency: dependency.checksum! });
      hexes.add(hex);
    }
    if (hexes.size > 0 && !files.some((f) => f.path === "dependencies"))
      files.push({ path: "dependencies", type: "directory" });
  }
  const buildpackToml = rewriteBuildpackToml(descriptor.source, {
    file: descriptor.file,
    target: target.target,
    ...(options.offline ? { uri: (d) => (d.checksum ? offlineDependencyUri(d.checksum) : undefined) } : {}),
  });
  files.push({ path: `${descriptor.kind}.toml`, type: "file", mode: 0o644, content: buildpackToml });
  files.sort((a, b) => compareArchivePaths(a.path, b.path));
  return {
    key: target.key,
    platform: target.platform.toJSON(),
    ...(sourceFolder ? { sourceFolder } : {}),
    files,
    buildpackToml,
    dependencies,
  };
}

/** BUILDPACK_TARGET_BINARIES_MISSING, naming the target and every path looked at. */
export function missingBinariesError(target: ImageTarget, missing: readonly MissingBinary[]): PolypackError {
  const details = missing
    .map(
      (m) =>
        `${m.path} (looked for ${m.lookedFor.join(", ")}${m.excludedByIncludeFiles ? "; present but left out by include-files" : ""})`,
    )
    .join("; ");
  return new PolypackError(
    "BUILDPACK_TARGET_BINARIES_MISSING",
    `target ${target.key} has no ${missing.map((m) => m.path).join(" or ")}: ${details}`,
    {
      hint:
        `build the executables for ${target.platform.toString()} into ${target.folders[0]}/bin/ ` +
        "(pre-package can do it), or drop the target",
    },
  );
}
