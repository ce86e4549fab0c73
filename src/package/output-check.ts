import type { Stats } from "node:fs";
import { lstat, open, readdir, realpath, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PolypackError } from "../errors.js";
import { OciLayout } from "../layout/oci-layout.js";
import { ensureWritableDirectory, isPathWithin, PROBE_PREFIX } from "../util/fs.js";
import { onUserPath, userPathError } from "../util/path-error.js";

/** An output path polypack may write, checked before any packaging work. */
export interface CheckedOutput {
  /** The absolute output path, its parent resolved through symbolic links. */
  path: string;
  /** Whether something (a regular file, an empty folder or a layout) is already there. */
  exists: boolean;
  /** The first folder created to hold the output, for removal when the run fails. */
  createdParent?: string;
}

/** The buildpack being packaged, whose own files an output must not replace. */
export interface OutputSource {
  /** The buildpack folder. */
  dir: string;
  /** The files packaging reads that no output may be: buildpack.toml (or extension.toml), package.toml. */
  inputs: readonly string[];
  /** Folders a package.toml includes (buildpacks, layouts); each is read whole, so no output may be inside. */
  included?: readonly string[];
}

/**
 * Checks where a `.cnb` file (`file`) or an OCI layout (`layout`) is to be written, before any work,
 * and creates its parent folders one level at a time. polypack replaces only a regular file (a
 * `.cnb`), and writes a layout only into a new or empty folder or a layout it can read; it never
 * writes through a symbolic link, into a device, FIFO or socket, over the buildpack's own inputs
 * or source files, or over a folder holding the buildpack. A folder that cannot take new entries
 * (read-only, no permission, /proc) is found by creating and removing a probe folder in it, and
 * folders created for the output are removed again when a check fails.
 * Throws OUTPUT_INVALID for what is there, OUTPUT_UNWRITABLE for what the file system refuses.
 */
export async function checkOutput(
  kind: "file" | "layout",
  path: string,
  source?: OutputSource,
): Promise<CheckedOutput> {
  const given = resolve(path);
  const unwritable = (operation: string) => ({ path: given, operation, code: "OUTPUT_UNWRITABLE" });
  const existing = await lstat(given).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw userPathError(error, unwritable("check the output"));
  });
  const resolved = async (): Promise<string> => {
    const parent = await onUserPath(unwritable("find the output"), () => realpath(dirname(given)));
    return join(parent, basename(given));
  };
  // What is there is judged first: it must not depend on whether its folder is writable.
  if (existing !== undefined) {
    const output = await resolved();
    if (source !== undefined) await checkAgainstSource(output, existing, source);
    await checkExisting(kind, output, existing);
  }
  // The layer spool, a new layout and a .cnb's working folder are first written beside the output.
  const createdParent = await onUserPath(unwritable("write the output"), () =>
    ensureWritableDirectory(dirname(given)),
  );
  try {
    const output = await resolved();
    if (existing === undefined && source !== undefined) await checkAgainstSource(output, existing, source);
    if (kind === "layout" && existing !== undefined) {
      await onUserPath(unwritable("write into the layout"), () => ensureWritableDirectory(output));
    }
    return { path: output, exists: existing !== undefined, ...(createdParent ? { createdParent } : {}) };
  } catch (error) {
    if (createdParent !== undefined) await rm(createdParent, { recursive: true, force: true });
    throw error;
  }
}

async function checkExisting(kind: "file" | "layout", path: string, info: Stats): Promise<void> {
  const wanted = kind === "file" ? "a .cnb output is a file" : "a layout output is a folder";
  if (info.isSymbolicLink()) {
    throw invalid(`${path} is a symbolic link; polypack does not write through links`, {
      hint: "give the path the link points to, or remove the link",
    });
  }
  if (!info.isFile() && !info.isDirectory()) {
    throw invalid(`${path} is ${describeType(info)}; polypack replaces only a regular file`, {
      hint: "choose another output path",
    });
  }
  if (kind === "file" && info.isDirectory()) {
    throw invalid(`${path} is a folder, but ${wanted}`, {
      hint: "name a file such as DIR/name.cnb, or write an OCI layout there with --format layout",
    });
  }
  if (kind === "layout" && info.isFile()) {
    throw invalid(`${path} is a file, but ${wanted}`, {
      hint: "write a .cnb with --format file (or an --output ending in .cnb), or name a new folder",
    });
  }
  if (kind === "layout") await checkLayoutFolder(path);
}

// A folder is written into only when it holds nothing but a layout's own entries: a readable
// layout, or one still being created (by another polypack process writing into it at the same
// time, or by a run that was killed), whose oci-layout or index.json is not there yet, with the
// temporaries and probes such writers make.
async function checkLayoutFolder(path: string): Promise<void> {
  const names = await onUserPath(
    { path, operation: "read the output folder", code: "OUTPUT_UNWRITABLE" },
    () => readdir(path),
  );
  const foreign = names.filter(
    (name) => !LAYOUT_ENTRIES.includes(name) && !TEMPORARY.test(name) && !name.startsWith(PROBE_PREFIX),
  );
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? ", ..." : "");
    throw invalid(`${path} is a folder that is not an OCI image layout (it holds ${shown})`, {
      hint: "name a new or empty folder, or a layout polypack wrote",
    });
  }
  if (names.includes("oci-layout") && names.includes("index.json")) await OciLayout.open(path);
}

/** What an OCI layout holds, with polypack's own `.polypack` folder. */
const LAYOUT_ENTRIES: readonly string[] = ["oci-layout", "index.json", "blobs", ".polypack"];
/** polypack's temporary files and folders (`.NAME.<...>.tmp`, `.tmp.d`), written beside their final name. */
const TEMPORARY = /^\..+\.tmp(\.d)?$/;

async function checkAgainstSource(
  output: string,
  info: Stats | undefined,
  source: OutputSource,
): Promise<void> {
  const dir = await realpath(source.dir);
  for (const input of source.inputs) {
    const real = await realpath(input).catch(() => resolve(input));
    if (output === real) {
      throw invalid(`${output} is ${basename(real)}, which packaging reads; it cannot be the output`, {
        hint: "choose another output path",
      });
    }
  }
  if (isPathWithin(output, dir)) {
    throw invalid(`${output} holds the buildpack folder ${source.dir}; it cannot be the output`, {
      hint: "write the package beside the buildpack folder or inside it, for example ./out.cnb",
    });
  }
  for (const folder of source.included ?? []) {
    const real = await realpath(folder).catch(() => resolve(folder));
    if (isPathWithin(real, output) || isPathWithin(output, real)) {
      throw invalid(`${output} overlaps ${folder}, a folder package.toml includes`, {
        hint: "write the package outside the folders package.toml includes: they are read whole",
      });
    }
  }
  // An output inside the buildpack folder is left out of its layer, so replacing one of the
  // buildpack's files would silently drop it from the package: only an earlier package may go.
  if (isPathWithin(dir, output) && info?.isFile() === true && !(await isTarArchive(output))) {
    throw invalid(`${output} is one of the buildpack's own files, not an earlier package`, {
      hint: "choose a new output path; polypack only replaces a .cnb it wrote inside the buildpack folder",
    });
  }
}

// Every tar header, and so every .cnb, carries the magic "ustar" at byte 257.
async function isTarArchive(path: string): Promise<boolean> {
  const header = Buffer.alloc(262);
  const handle = await open(path, "r").catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const { bytesRead } = await handle.read(header, 0, header.length, 0);
    return bytesRead === header.length && header.subarray(257).toString("latin1") === "ustar";
  } finally {
    await handle.close();
  }
}

function describeType(info: Stats): string {
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}

function invalid(message: string, options: { hint: string }): PolypackError {
  return new PolypackError("OUTPUT_INVALID", message, options);
}
