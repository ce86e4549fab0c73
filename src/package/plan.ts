import {
  assertCoverage,
  checkModuleReference,
  dependencyCoverage,
  type BuildpackDescriptor,
  type CoverageReport,
  type ModuleKind,
} from "../buildpack/index.js";
import { PolypackError } from "../errors/index.js";
import {
  buildpackageMetadataLabel,
  packageStacks,
  moduleLayerInfo,
  type ModuleLayerInfo,
} from "../buildpack/labels.js";
import { selectTargetFiles } from "./plan-files.js";
import { missingBinariesError, planTarget, type TargetPlan } from "./plan-target.js";
import type { TargetOrigin, TargetSelection } from "./plan-targets.js";
import type { SourceEntry } from "./source-tree.js";

export type { PlannedDependency, TargetPlan } from "./plan-target.js";

/** The whole package as plain data: what `--dry-run` prints and what the executor builds. */
export interface PackagePlan {
  kind: ModuleKind;
  id: string;
  version: string;
  name?: string;
  /** A composite buildpack (`[[order]]`): no executables of its own. */
  composite: boolean;
  /** The layer's root, relative: `cnb/buildpacks/<id with / as _>/<version>`. */
  layerRoot: string;
  /** `[metadata] pre-package`, run once before the files are chosen. */
  prePackage?: string;
  targetOrigin: TargetOrigin;
  targets: TargetPlan[];
  coverage: CoverageReport;
  /** Notes and warnings for people (target defaults, dependency gaps). */
  warnings: string[];
  /** `io.buildpacks.buildpackage.metadata`, exactly as written. */
  metadataLabel: string;
  /** This buildpack's entry in `io.buildpacks.buildpack.layers`; `layerDiffID` is filled in per target. */
  layerInfo: ModuleLayerInfo;
  /** Paths of the buildpack folder left out by default (`.git`, earlier outputs, temporaries). */
  excluded?: ExcludedPath[];
}

/** A path of the buildpack folder that is not packaged, and why. */
export interface ExcludedPath {
  path: string;
  reason: string;
}

/** Options that shape a plan. */
export interface PlanOptions {
  /** Put each target's dependencies into its layer and point their URIs there. */
  offline?: boolean;
  /** A target missing a dependency another target has is an error, not a warning. */
  strict?: boolean;
  /** `warn` lists missing executables and include-files as warnings (a dry run, before pre-package ran). */
  missingBinaries?: "error" | "warn";
}

/**
 * Plans a buildpackage: for each selected target the layer's files (its per-target folder over the
 * shared files, filtered by include-files), its buildpack.toml with only its dependencies, and the
 * labels. Pure: the source tree comes in as data. Throws BUILDPACK_TARGET_BINARIES_MISSING,
 * BUILDPACK_INCLUDE_FILE_MISSING, DEPENDENCY_CHECKSUM_MISSING or DEPENDENCY_COVERAGE_INCOMPLETE.
 */
export function planPackage(
  descriptor: BuildpackDescriptor,
  selection: TargetSelection,
  tree: readonly SourceEntry[],
  options: PlanOptions = {},
): PackagePlan {
  const layerRoot = moduleLayerRoot(descriptor);
  const composite = descriptor.order.length > 0;
  const warnings = [...(descriptor.warnings ?? []), ...selection.notes];
  const coverage = dependencyCoverage(
    descriptor.metadata.dependencies,
    selection.targets.map((t) => t.target),
    { strict: options.strict ?? false },
  );
  assertCoverage(coverage);
  warnings.push(...coverage.issues.filter((i) => i.severity === "warning").map((i) => i.message));

  const requiredBinaries = composite ? [] : requiredExecutables(descriptor.kind, tree, selection);
  const targets = selection.targets.map((target) => {
    const selected = selectTargetFiles(tree, target, selection.targets, {
      includeFiles: descriptor.metadata.includeFiles,
      descriptorFile: `${descriptor.kind}.toml`,
      requiredBinaries: target.platform.os === "windows" ? [] : requiredBinaries,
    });
    if (selected.missingBinaries.length > 0) {
      const error = missingBinariesError(target, selected.missingBinaries);
      if (options.missingBinaries === "warn") warnings.push(error.message);
      else throw error;
    }
    if (selected.missingIncludes.length > 0) {
      const error = new PolypackError(
        "BUILDPACK_INCLUDE_FILE_MISSING",
        `include-files in ${descriptor.file} names ${selected.missingIncludes.map((p) => JSON.stringify(p)).join(", ")}, ` +
          `which ${selected.missingIncludes.length === 1 ? "does" : "do"} not exist for target ${target.key}`,
        {
          hint: "create the files (is pre-package building them?) or remove them from [metadata] include-files",
        },
      );
      if (options.missingBinaries === "warn") warnings.push(error.message);
      else throw error;
    }
    return planTarget(descriptor, target, selected.files, selected.sourceFolder, options);
  });

  return {
    kind: descriptor.kind,
    id: descriptor.info.id,
    version: descriptor.info.version,
    ...(descriptor.info.name ? { name: descriptor.info.name } : {}),
    composite,
    layerRoot,
    ...(descriptor.metadata.prePackage ? { prePackage: descriptor.metadata.prePackage } : {}),
    targetOrigin: selection.origin,
    targets,
    coverage,
    warnings,
    metadataLabel: buildpackageMetadataLabel(
      descriptor,
      descriptor.kind === "extension" ? null : packageStacks(descriptor),
    ),
    layerInfo: moduleLayerInfo(descriptor, ""),
  };
}

/**
 * `cnb/buildpacks/<escaped id>/<version>` (or `cnb/extensions/...`). The descriptor readers refuse
 * ids and versions that are not folder names, but a descriptor can also be built by hand, so the
 * values are checked again here, where they become a path: nothing may land outside that folder.
 */
export function moduleLayerRoot(descriptor: Pick<BuildpackDescriptor, "kind" | "file" | "info">): string {
  const { kind, file, info } = descriptor;
  const [problem] = checkModuleReference(kind, info.id, info.version);
  if (problem !== undefined) {
    throw new PolypackError(problem.code, `${file}: [${kind}] ${problem.key}: ${problem.reason}`, {
      hint: problem.hint,
    });
  }
  return `cnb/${kind === "extension" ? "extensions" : "buildpacks"}/${escapeId(info.id)}/${info.version}`;
}

/** A buildpack id as the lifecycle finds it on disk: every `/` becomes `_`. */
export function escapeId(id: string): string {
  return id.replaceAll("/", "_");
}

/**
 * The executables every target must have: a buildpack's bin/detect and bin/build; for an image
 * extension, whose bin/detect and bin/generate are both optional, those that some target has, so
 * that one architecture cannot silently lack what another ships.
 */
function requiredExecutables(
  kind: ModuleKind,
  tree: readonly SourceEntry[],
  selection: TargetSelection,
): string[] {
  if (kind !== "extension") return ["bin/build", "bin/detect"];
  const paths = new Set(tree.map((entry) => entry.path));
  const folders = [
    "",
    ...selection.targets.flatMap((target) => target.folders.map((folder) => `${folder}/`)),
  ];
  return ["bin/detect", "bin/generate"].filter((binary) =>
    folders.some((folder) => paths.has(`${folder}${binary}`)),
  );
}
