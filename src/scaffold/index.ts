// New buildpacks and extensions from a template: `polypack buildpack new`, `polypack extension new`.
export { scaffold, type ScaffoldResult } from "./scaffold.js";
export { scaffoldFiles, targetFolder, type ScaffoldFile, type ScaffoldSpec } from "./templates.js";
