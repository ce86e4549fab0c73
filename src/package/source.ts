import { existsSync } from "node:fs";
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { unpackBuildpackArchive } from "./archive-unpack.js";
import { fileURLToPath } from "node:url";
import {
  parseBuildpackToml,
  parseExtensionToml,
  parsePackageToml,
  type BuildpackDescriptor,
  type PackageConfig,
} from "../buildpack/index.js";
import { PolypackError } from "../errors/index.js";
import { onUserPath } from "../util/path-error.js";
import { stampVersion } from "./version-stamp.js";
import { downloadBuildpack, type BuildpackDownloadOptions } from "./http-download.js";
import { makeScratchDir, removeScratchDir } from "../util/scratch-dir.js";

/** A buildpack's source directory, its parsed descriptor and the package.toml that named it. */
export interface BuildpackSource {
  /** The absolute buildpack directory. */
  dir: string;
  descriptor: BuildpackDescriptor;
  packageConfig?: PackageConfig;
  /** The absolute package.toml path, when one was given. */
  configPath?: string;
  /** Removes the folder a `[buildpack] uri` archive was unpacked into; call when done with `dir`. */
  cleanup?: () => Promise<void>;
}

/**
 * Reads the buildpack to package: with a package.toml, the folder its `[buildpack] uri` (or
 * `[extension] uri`) names, relative to the package.toml; else `path` (default: the working
 * directory). Throws PATH_NOT_FOUND (no package.toml or buildpack.toml), BUILDPACK_URI_UNSUPPORTED
 * or the descriptor's own validation errors.
 */
export async function readBuildpackSource(options: {
  path?: string;
  config?: string;
  /** The version to package instead of the file's (see `stampVersion`). */
  version?: string;
  /** How an http(s) `[buildpack] uri` is downloaded (and cached). */
  downloads?: BuildpackDownloadOptions;
}): Promise<BuildpackSource> {
  let packageConfig: PackageConfig | undefined;
  let configPath: string | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let dir = resolve(options.path ?? ".");
  if (options.config !== undefined) {
    configPath = resolve(options.config);
    const text = await onUserPath(
      { path: configPath, operation: "read the package.toml", code: "PATH_NOT_FOUND" },
      () => readFile(configPath!, "utf8"),
    );
    packageConfig = parsePackageToml(text, { file: configPath });
    const remote = /^https?:\/\//i.test(packageConfig.uri) ? new URL(packageConfig.uri) : undefined;
    dir = remote ? "" : resolveBuildpackUri(packageConfig.uri, dirname(configPath), configPath);
    if (remote || (ARCHIVE.test(dir) && (await stat(dir).catch(() => undefined))?.isFile() === true)) {
      // pack reads a [buildpack] uri archive as the buildpack's folder: unpack it for this run.
      const unpacked = await makeScratchDir("polypack-buildpack-");
      cleanup = () => removeScratchDir(unpacked);
      const into = join(unpacked, "buildpack");
      try {
        let archive = dir;
        if (remote) {
          // Fetched through the download cache into the scratch folder, unpacked, then removed.
          await mkdir(join(unpacked, "download"));
          archive = await downloadBuildpack(
            remote,
            join(unpacked, "download"),
            configPath,
            options.downloads,
          );
        }
        await mkdir(into);
        await unpackBuildpackArchive(archive, into);
        if (remote) await rm(join(unpacked, "download"), { recursive: true, force: true });
      } catch (error) {
        await cleanup();
        throw error;
      }
      dir = into;
    }
  }
  const kind =
    packageConfig?.kind ??
    (existsSync(join(dir, "extension.toml")) && !existsSync(join(dir, "buildpack.toml"))
      ? "extension"
      : "buildpack");
  const file = join(dir, `${kind}.toml`);
  const text = await onUserPath(
    {
      path: file,
      operation: `read the ${kind}'s ${kind}.toml`,
      code: "PATH_NOT_FOUND",
      advice: "give the buildpack's folder with --path, or a package.toml with --config",
    },
    () => readFile(file, "utf8"),
  );
  // The packaged file carries the given version too, so the lifecycle reads what the labels say.
  const source = options.version === undefined ? text : stampVersion(text, kind, options.version, file);
  const descriptor =
    kind === "extension" ? parseExtensionToml(source, { file }) : parseBuildpackToml(source, { file });
  return {
    dir,
    descriptor,
    ...(packageConfig ? { packageConfig } : {}),
    ...(configPath ? { configPath } : {}),
    ...(cleanup ? { cleanup } : {}),
  };
}

/** Whether the folder has a root `bin/build` (what makes pack assume linux/amd64 without targets). */
export async function hasRootBin(dir: string): Promise<boolean> {
  return (await stat(join(dir, "bin", "build")).catch(() => undefined)) !== undefined;
}

/** A `[buildpack] uri` naming an archive of the buildpack's folder, as pack reads one. */
const ARCHIVE = /\.(tgz|tar\.gz|tar)$/i;

/** A package.toml `uri` naming a local folder or archive: a relative or absolute path, or a `file://` URL. */
export function resolveBuildpackUri(uri: string, base: string, where: string): string {
  if (uri.startsWith("file://")) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) || /\.cnb$/i.test(uri)) {
    throw new PolypackError(
      "BUILDPACK_URI_UNSUPPORTED",
      `${where}: [buildpack] uri ${JSON.stringify(uri)} is not a local folder or archive`,
      { hint: 'point uri at the folder holding buildpack.toml (for example uri = "."), or a .tgz of it' },
    );
  }
  return resolve(base, uri);
}
