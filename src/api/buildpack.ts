/**
 * `polypack/buildpack`: the buildpack model. Reading and checking buildpack.toml, extension.toml
 * and package.toml, the targets a buildpack supports, its per-target dependencies, and the
 * resolver that picks a dependency version for a target.
 */

// Descriptors: buildpack.toml and extension.toml.
export {
  checkDescriptor,
  parseBuildpackToml,
  parseExtensionToml,
  type BuildpackDescriptor,
  type BuildpackInfo,
  type BuildpackMetadata,
  type DescriptorCheck,
  type DescriptorOptions,
  type ModuleKind,
  type Stack,
} from "../buildpack/index.js";

// package.toml.
export { parsePackageToml, type PackageConfig, type PackageDependency } from "../buildpack/index.js";

// Targets.
export {
  effectiveTargets,
  makeTarget,
  targetKey,
  type Distro,
  type Target,
  type TargetSource,
} from "../buildpack/index.js";

// Dependencies per target, and the resolver.
export {
  dependencyCoverage,
  dependencyMatchesTarget,
  filterDependencies,
  parseDependencies,
  resolveDependency,
  type CoverageReport,
  type Dependency,
  type DeprecationWarning,
  type Resolution,
  type ResolveRequest,
} from "../buildpack/index.js";
