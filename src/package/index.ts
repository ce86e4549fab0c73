// Packaging buildpacks: plan (pure), then build images as values (layers spooled), then write them.
export { packageBuildpack, type PackageEvent, type PackageOptions, type PackageResult } from "./package.js";
export {
  escapeId,
  moduleLayerRoot,
  planPackage,
  type PackagePlan,
  type PlanOptions,
  type PlannedDependency,
  type TargetPlan,
} from "./plan.js";
export type { FileSelection, MissingBinary, PlannedFile } from "./plan-files.js";
export {
  parseTargetFlag,
  prePackageTargets,
  selectTargets,
  targetFolders,
  type ImageTarget,
  type TargetOrigin,
  type TargetSelection as PackageTargetSelection,
} from "./plan-targets.js";
export { scanSourceTree, type SourceEntry } from "./source-tree.js";
export { readBuildpackSource, type BuildpackSource } from "./source.js";
export { runPrePackage, type PrePackageOptions } from "./pre-package.js";
export {
  buildPackage,
  type BuildOptions,
  type BuildResult,
  type BuiltImage,
  type IncludedLayers,
} from "./build.js";
export { deliverPackage, type PackageDestination } from "./deliver.js";
export {
  dependencyLocation,
  includeCompositeLayers,
  type CompositeOptions,
  type DependencyLocation,
  type IncludeLayers,
} from "./composite.js";
export { joinImages, type JoinResult } from "../manifest/join.js";
export { encodeGoJSON, goTime, sortedByGoKey, type GoJSONValue } from "../oci/go-json.js";
export { fetchOfflineDependencies, type OfflineOptions } from "./offline.js";
