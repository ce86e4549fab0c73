import { chmod, mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { checkModuleReference } from "../buildpack/module-id.js";
import { SUPPORTED_BUILDPACK_APIS, SUPPORTED_EXTENSION_APIS } from "../buildpack/descriptor-validate.js";
import { PolypackError } from "../errors/index.js";
import { forgetTemp, tempPathBeside } from "../util/fs.js";
import { onUserPath } from "../util/path-error.js";
import { scaffoldFiles, type ScaffoldSpec } from "./templates.js";

/** What a scaffold run wrote. */
export interface ScaffoldResult {
  /** The absolute folder. */
  path: string;
  /** The files written, relative to it. */
  files: string[];
}

/**
 * Writes a new buildpack or extension into `path`, which must not exist or be an empty folder
 * (OUTPUT_INVALID otherwise: nothing of the user's is replaced). The files are written into a
 * temporary folder beside it and renamed into place, so the folder appears whole or not at all.
 * An id, version or API polypack could not package is refused first (BUILDPACK_ID_INVALID,
 * BUILDPACK_API_UNSUPPORTED).
 */
export async function scaffold(spec: ScaffoldSpec, path: string): Promise<ScaffoldResult> {
  checkSpec(spec);
  const target = resolve(path);
  const existing = await readdir(target).catch((error: NodeJS.ErrnoException) =>
    error.code === "ENOENT" ? undefined : error.code === "ENOTDIR" ? ["(a file)"] : Promise.reject(error),
  );
  if (existing !== undefined && existing.length > 0) {
    throw new PolypackError("OUTPUT_INVALID", `${target} already exists and is not empty`, {
      hint: `give a new folder with --path, or remove ${target} first`,
    });
  }
  const files = scaffoldFiles(spec);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathBeside(target);
  try {
    await onUserPath(
      { path: target, operation: "write the new folder", code: "OUTPUT_UNWRITABLE" },
      async () => {
        for (const file of files) {
          const at = join(temp, file.path);
          await mkdir(dirname(at), { recursive: true });
          await writeFile(at, file.text);
          // Written modes do not depend on the user's umask: the programs must run in the image.
          await chmod(at, file.executable ? 0o755 : 0o644);
        }
        if (existing !== undefined) await rmdir(target);
        await rename(temp, target);
      },
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
    forgetTemp(temp);
  }
  return { path: target, files: files.map((f) => f.path) };
}

function checkSpec(spec: ScaffoldSpec): void {
  const apis = spec.kind === "extension" ? SUPPORTED_EXTENSION_APIS : SUPPORTED_BUILDPACK_APIS;
  if (!apis.includes(spec.api)) {
    throw new PolypackError(
      "BUILDPACK_API_UNSUPPORTED",
      `--api ${JSON.stringify(spec.api)} is not one polypack packages`,
      {
        hint: `give one of ${apis.join(", ")}`,
      },
    );
  }
  const [problem] = checkModuleReference(spec.kind, spec.id, spec.version);
  if (problem !== undefined) {
    throw new PolypackError(problem.code, `${problem.key === "id" ? "" : "--version: "}${problem.reason}`, {
      hint: problem.hint,
    });
  }
}
