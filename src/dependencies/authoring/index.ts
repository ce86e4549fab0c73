// Dependency authoring: adding entries to buildpack.toml from downloads, merging metadata.json.
export { addEntries, type AddOutcome } from "./add.js";
export { fetchAdditions, type AddRequest, type FetchedAddition } from "./add-files.js";
export { checkDownloadArchitecture, type ArchitectureCheck, type ForeignProgram } from "./arch-check.js";
export type { Addition } from "./new-entry.js";
export { expandTemplate, parseArchNames } from "./template.js";
export { unifiedDiff } from "./unified-diff.js";
export { verifyUpdate, type VerifiedEntry, type VerifyUpdateOptions } from "./update-verify.js";
export { parseMetadataJson, updateEntries, type MetadataEntry, type UpdateOutcome } from "./update.js";
