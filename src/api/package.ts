/**
 * `polypack/package`: packaging a buildpack or extension (one target or many) into a `.cnb` file,
 * an OCI layout or a registry, as `polypack buildpack package` does.
 */
export {
  packageBuildpack,
  type PackageEvent,
  type PackageOptions,
  type PackageResult,
} from "../package/package.js";
export type { PackageDestination } from "../package/deliver.js";
export type { BuiltImage, LayerWriteSummary } from "../package/build.js";
export type { PackagePlan, TargetPlan } from "../package/plan.js";
export type { BuildpackSource } from "../package/source.js";
export { includeCompositeLayers, type CompositeOptions } from "../package/composite.js";
export type { Endpoint } from "../endpoints/endpoint.js";
