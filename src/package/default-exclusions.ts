import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

/** polypack's temporary files and folders (`.NAME.<...>.tmp`, `.tmp.d`), written beside their final name. */
const TEMPORARY = /^\..+\.tmp(\.d)?$/;
const TAR_MAGIC_OFFSET = 257;

/**
 * What a buildpack folder holds that is not the buildpack, left out of its layer when
 * include-files does not say what goes in: `.git` (a checkout's history, often larger than the
 * buildpack), polypack's temporaries, and earlier outputs: `.cnb` archives with the SBOM folders
 * written beside them, and OCI image layouts.
 * Returns the reason for a path that is left out (with everything below it), else undefined.
 */
export function defaultExclusion(dir: string, path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (name === ".git") return "a git repository";
  if (TEMPORARY.test(name)) return "a polypack temporary";
  const diskPath = join(dir, path);
  if (name.endsWith(".cnb") && isTarArchive(diskPath)) return "a package (.cnb)";
  if (name.endsWith(".cnb.sbom") && isTarArchive(diskPath.slice(0, -".sbom".length)))
    return "a package's SBOMs";
  if (isFile(join(diskPath, "oci-layout"))) return "an OCI image layout";
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// Every tar header, and so every .cnb, carries the magic "ustar" at byte 257.
function isTarArchive(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const header = Buffer.alloc(TAR_MAGIC_OFFSET + 5);
    const read = readSync(fd, header, 0, header.length, 0);
    return read === header.length && header.subarray(TAR_MAGIC_OFFSET).toString("latin1") === "ustar";
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
