import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { defaultCacheHome, defaultDependencyCacheDir } from "../dependencies/cache-dir.js";
import { ensureWritableDirectory, isPathWithin } from "../util/fs.js";
import type { PolypackError } from "../errors/index.js";
import { isErrnoError, onUserPath, userPathError, type UserPathContext } from "../util/path-error.js";
import type { PackageDestination } from "./deliver.js";
import { dependencyLocation } from "./composite.js";
import { checkOutput, type CheckedOutput } from "./output-check.js";
import type { BuildpackSource } from "./source.js";

/** What `PackagePaths.prepare` needs to know of a package run. */
export interface PackagePathOptions {
  destination?: PackageDestination;
  /** A dry run writes nothing, so nothing is checked. */
  dryRun?: boolean;
  offline?: boolean;
  cacheDir?: string;
  layerCache?: string | false;
}

/**
 * The folders a package run writes, checked before any work: the output (see `checkOutput`), the
 * layer cache, offline the dependency cache, and TMPDIR for a registry push. Each is created one
 * level at a time and probed, so a read-only, forbidden or /proc location fails at once with a
 * code naming it. Later file system failures under one of them are reported the same way
 * (`explain`), and folders created for the output are removed when the run fails (`abandon`).
 */
export class PackagePaths {
  /** The spool the layers are written into, once created; failures inside it concern the output. */
  spool: string | undefined;

  private constructor(
    /** The checked `.cnb` or layout output; undefined for a registry or a dry run. */
    readonly output: CheckedOutput | undefined,
    /** The layer cache folder, or undefined when the cache is off. */
    readonly layerCache: string | undefined,
    /** The dependency cache folder, for offline packages. */
    readonly dependencyCache: string | undefined,
    private readonly buildpackDir: string,
  ) {}

  /** Checks and prepares every folder the run will write; nothing is checked for a dry run. */
  static async prepare(options: PackagePathOptions, source: BuildpackSource): Promise<PackagePaths> {
    const destination = options.dryRun ? undefined : options.destination;
    const included = includedSources(source);
    const output =
      destination !== undefined && destination.kind !== "target"
        ? await checkOutput(destination.kind, destination.path, {
            dir: source.dir,
            inputs: [
              source.descriptor.file,
              ...(source.configPath ? [source.configPath] : []),
              ...included.files,
            ],
            included: included.folders,
          })
        : undefined;
    const paths = new PackagePaths(
      output,
      destination === undefined || options.layerCache === false
        ? undefined
        : resolve(options.layerCache ?? join(defaultCacheHome(), "layers")),
      destination !== undefined && options.offline
        ? resolve(options.cacheDir ?? defaultDependencyCacheDir())
        : undefined,
      source.dir,
    );
    try {
      for (const [dir, context] of paths.caches()) {
        await onUserPath(context, () => ensureWritableDirectory(dir));
      }
      if (destination?.kind === "target") {
        // Layers pushed to a registry are spooled in TMPDIR first.
        const temp = tmpdir();
        await onUserPath(spoolContext(temp), () => ensureWritableDirectory(temp));
      }
    } catch (error) {
      await paths.abandon();
      throw error;
    }
    return paths;
  }

  /**
   * A file system failure under one of the run's folders as the user error it is (which folder,
   * doing what, why); any other error as it was.
   */
  explain(error: unknown): unknown {
    if (!isErrnoError(error)) return error;
    // A failed write on an open file names no path: it can only have been a write into the spool.
    if (error.path === undefined) {
      return WRITE_FAILURES.includes(error.code) && this.spool !== undefined ? this.spoolError(error) : error;
    }
    const path = resolve(error.path);
    const output = this.output?.path;
    if (output !== undefined) {
      // The output itself and its temporary siblings (`.<name>.<...>.tmp`, `.tmp.d`).
      const parent = dirname(output);
      const sibling = isPathWithin(parent, path) ? firstSegment(parent, path) : undefined;
      if (isPathWithin(output, path) || sibling?.startsWith(`.${basename(output)}.`) === true) {
        return userPathError(error, {
          path: output,
          operation: "write the output",
          code: "OUTPUT_UNWRITABLE",
        });
      }
    }
    if (this.spool !== undefined && isPathWithin(this.spool, path)) return this.spoolError(error);
    for (const [dir, context] of this.caches()) {
      if (isPathWithin(dir, path)) return userPathError(error, context);
    }
    if (isPathWithin(this.buildpackDir, path)) {
      return userPathError(error, {
        path: this.buildpackDir,
        operation: "read the buildpack folder",
        code: "PATH_UNREADABLE",
      });
    }
    return error;
  }

  // The spool of a `.cnb` or layout sits beside it, on its file system, so its failures are the
  // output's; a registry push spools in TMPDIR.
  private spoolError(error: NodeJS.ErrnoException): PolypackError {
    const output = this.output?.path;
    if (output !== undefined) {
      return userPathError(error, { path: output, operation: "write the output", code: "OUTPUT_UNWRITABLE" });
    }
    return userPathError(error, spoolContext(this.spool ?? tmpdir()));
  }

  /** Removes the folders created to hold the output (after a failed run). */
  async abandon(): Promise<void> {
    const created = this.output?.createdParent;
    if (created !== undefined) await rm(created, { recursive: true, force: true });
  }

  private caches(): [string, UserPathContext][] {
    const caches: [string, UserPathContext][] = [];
    if (this.layerCache !== undefined) {
      caches.push([
        this.layerCache,
        {
          path: this.layerCache,
          operation: "use the layer cache",
          code: "CACHE_DIR_UNWRITABLE",
          advice: "set POLYPACK_CACHE_DIR to a writable folder, or package with --no-layer-cache",
        },
      ]);
    }
    if (this.dependencyCache !== undefined) {
      caches.push([
        this.dependencyCache,
        {
          path: this.dependencyCache,
          operation: "use the dependency cache",
          code: "CACHE_DIR_UNWRITABLE",
          advice: "give a writable folder with --cache-dir or POLYPACK_CACHE_DIR",
        },
      ]);
    }
    return caches;
  }
}

// The layers of a registry push are spooled in TMPDIR.
function spoolContext(path: string): UserPathContext {
  return {
    path,
    operation: "write the package's layers in",
    code: "SCRATCH_UNWRITABLE",
    advice: "point TMPDIR at a writable folder with room for the layers",
  };
}

// What a composite's package.toml includes from disk: `.cnb` files, and folders (buildpack
// folders and OCI layouts) that are read whole. A dependency that cannot be found is reported
// when the composite is built.
function includedSources(source: BuildpackSource): { files: string[]; folders: string[] } {
  const included = { files: [] as string[], folders: [] as string[] };
  const config = source.packageConfig;
  if (config === undefined || source.configPath === undefined) return included;
  for (const dependency of config.dependencies) {
    try {
      const location = dependencyLocation(dependency, dirname(source.configPath), config.file);
      if (location.kind === "cnb" || location.kind === "archive") included.files.push(location.path);
      else if (location.kind === "folder" || location.kind === "layout") included.folders.push(location.path);
    } catch {
      continue;
    }
  }
  return included;
}

/** Errors that mean the file system would not take the bytes, not that polypack misused it. */
const WRITE_FAILURES: readonly string[] = ["ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EIO"];

// The first name of `path` below `root`, e.g. `.out.cnb.1a2b.tmp.d` for a file in that folder.
function firstSegment(root: string, path: string): string | undefined {
  const rest = relative(root, path);
  return rest === "" ? undefined : rest.split("/")[0];
}
