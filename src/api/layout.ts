/**
 * `polypack/layout`: OCI image layouts (directories) and `.cnb` buildpackage files, as content
 * sources and targets for the image model's `readArtifact` and `write`.
 */
export { OciLayout } from "../layout/oci-layout.js";
export { LayoutSource } from "../layout/layout-source.js";
export { LayoutTarget } from "../layout/layout-target.js";
export { CnbSource } from "../layout/cnb-source.js";
export { CnbTarget, type CnbTargetOptions } from "../layout/cnb-target.js";
