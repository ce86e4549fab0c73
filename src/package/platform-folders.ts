import { Platform } from "../oci/platform.js";
import type { ImageTarget } from "./plan-targets.js";

/** The `os/arch` folder a path lies in, when its first two segments name a platform. */
export function platformRoot(path: string): string | undefined {
  const [os, arch] = path.split("/");
  if (os === undefined || arch === undefined) return undefined;
  const root = `${os}/${arch}`;
  let known = KNOWN_PLATFORM_FOLDERS.get(root);
  if (known === undefined) {
    known = parsesAsPlatform(root);
    KNOWN_PLATFORM_FOLDERS.set(root, known);
  }
  return known ? root : undefined;
}

const KNOWN_PLATFORM_FOLDERS = new Map<string, boolean>();

function parsesAsPlatform(value: string): boolean {
  try {
    Platform.parse(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is `folder` or lies below it. */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** Below `os/arch`, `v7/` is another variant's folder and `ubuntu@22.04/` another distro's. */
export function isNestedTargetFolder(dest: string, sourceFolder: string): boolean {
  const first = dest.split("/")[0] ?? "";
  const depth = sourceFolder.split("/").length;
  return (depth === 2 && /^v\d+$/.test(first)) || (depth <= 3 && first.includes("@"));
}

/** Whether a path lies in a per-target folder of a target other than `target`. */
export function belongsToOtherTarget(path: string, target: ImageTarget): boolean {
  const root = platformRoot(path);
  if (root === undefined) return false;
  if (root !== target.folders[0]) return true;
  // Same os/arch: a deeper folder that is not on this target's chain belongs to another variant or distro.
  const dest = path.slice(root.length + 1);
  const ownChain = target.folders.filter((f) => f !== root);
  return isNestedTargetFolder(dest, root) && !ownChain.some((f) => isWithin(path, f));
}
