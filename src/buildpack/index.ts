// The buildpack model: descriptors, package.toml, labels, per-target dependencies and their resolver.
export * from "./descriptor-types.js";
export {
  checkDescriptor,
  parseBuildpackToml,
  parseExtensionToml,
  type DescriptorCheck,
  type DescriptorOptions,
} from "./descriptor.js";
export { SUPPORTED_BUILDPACK_APIS, SUPPORTED_EXTENSION_APIS } from "./descriptor-validate.js";
export {
  checkModuleReference,
  RESERVED_EXTENSION_IDS,
  RESERVED_IDS,
  type ModuleReferenceProblem,
} from "./module-id.js";
export * from "./targets.js";
export * from "./target-env.js";
export * from "./package-config.js";
export { parseChecksum, parseDependencies, type Dependency } from "./dependencies.js";
export { purlArchitecture, type ArchitectureSource, type DependencyPlatform } from "./dependency-platform.js";
export * from "./dependencies-filter.js";
export * from "./dependencies-coverage.js";
export * from "./dependencies-rewrite.js";
export * from "./constraint.js";
export * from "./resolve.js";
export { formatKeyPath, type KeyPath } from "./toml-document.js";
export {
  BUILDPACK_LAYERS_LABEL,
  BUILDPACKAGE_METADATA_LABEL,
  addModuleLayer,
  buildpackLayersLabel,
  buildpackageMetadataLabel,
  labelStacks,
  packageStacks,
  labelTarget,
  moduleLayerInfo,
  type LabelGroupEntry,
  type LabelStack,
  type LabelTarget,
  type ModuleLayerInfo,
  type ModuleLayers,
} from "./labels.js";
export { parseMetadataStacks, parseModuleLayers } from "./label-parse.js";
export { mergeCompatibleStacks, resolvedStacks } from "./stacks.js";
