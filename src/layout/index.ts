// OCI image layouts and .cnb buildpackage files, as content sources and targets.
export { OciLayout } from "./oci-layout.js";
export { LayoutSource } from "./layout-source.js";
export { LayoutTarget } from "./layout-target.js";
export { CnbArchive } from "./cnb-archive.js";
export { CnbSource } from "./cnb-source.js";
export { CnbTarget, type CnbTargetOptions } from "./cnb-target.js";
