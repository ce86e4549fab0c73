import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, sep } from "node:path";
import type { Writable } from "node:stream";
import type { CopyEvent } from "../image/copy.js";
import type { DependencyEvent } from "../dependencies/index.js";
import { LayerSpool } from "../image/spool.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Platform } from "../oci/platform.js";
import { PolypackError } from "../errors/index.js";
import { buildPackage, type BuildOptions, type BuiltImage } from "./build.js";
import { deliverPackage, spoolNear, type PackageDestination } from "./deliver.js";
import { fetchOfflineDependencies, type OfflineFile, type OfflineOptions } from "./offline.js";
import { planPackage, type ExcludedPath, type PackagePlan } from "./plan.js";
import { prePackageTargets, selectTargets } from "./plan-targets.js";
import { runPrePackage } from "./pre-package.js";
import { hasRootBin, readBuildpackSource, type BuildpackSource } from "./source.js";
import { scanSourceTree } from "./source-tree.js";
import { defaultExclusion } from "./default-exclusions.js";
import { PackagePaths } from "./package-paths.js";
import { verifyBeforeWrite } from "./verify-hook.js";
import type { LayerScan } from "../verify/image-tree.js";
import type { FlattenOptions } from "./flatten.js";

/** Progress of a package run, for logs and progress bars. */
export type PackageEvent =
  | { type: "pre-package"; command: string; targets: string }
  | { type: "dependency"; event: DependencyEvent }
  | { type: "image"; image: BuiltImage }
  | { type: "copy"; event: CopyEvent }
  /** Something the user should know that did not stop the run (a cache entry rebuilt, say). */
  | { type: "warning"; message: string };

/** Options of `packageBuildpack`. */
export interface PackageOptions {
  /** The buildpack folder (default: the working directory); not together with `config`. */
  path?: string;
  /** A package.toml naming the buildpack and, for composites, its dependencies. */
  config?: string;
  /**
   * What the source must be (`polypack extension package` asks for an image extension); any
   * buildpack.toml or extension.toml is packaged when unset.
   */
  kind?: "buildpack" | "extension";
  /** `--target` values; default: the targets the package.toml or buildpack.toml declares. */
  targets?: readonly string[];
  /** Put each target's dependencies into its layer. */
  offline?: boolean;
  /** A target lacking a dependency another target has is an error. */
  strict?: boolean;
  /** Plan only: run nothing, write nothing. */
  dryRun?: boolean;
  /** Where the package goes; required unless `dryRun`. */
  destination?: PackageDestination;
  /** Run `[metadata] pre-package` (default true; never in a dry run). */
  prePackage?: boolean;
  /** The pre-package script's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Where the pre-package script's output goes (default: stderr). */
  log?: Writable;
  /** The offline dependency cache (default: the user's polypack cache). */
  cacheDir?: string;
  /** How dependencies are downloaded: extra certificate authorities, and the idle timeout. */
  downloads?: Pick<OfflineOptions, "caFile" | "idleTimeoutMs">;
  /**
   * Where compressed layer pieces are cached so that repackaging recompresses only what changed
   * (default: `layers` in polypack's cache home); false turns the cache off.
   */
  layerCache?: string | false;
  /** Images' `created` time (default: SOURCE_DATE_EPOCH or 1980-01-01T00:00:01Z). */
  created?: Date;
  /** More labels for every image (the labels polypack writes itself always win). */
  labels?: Readonly<Record<string, string>>;
  /**
   * The version to package (jam's and libpak's `--version`): it replaces `[buildpack] version` (or
   * `[extension] version`) in the labels and in the packaged buildpack.toml.
   */
  version?: string;
  /**
   * The platforms a composite's dependencies share, for a composite that declares no targets (see
   * `compositeDefaultPlatforms`); without it such a composite is packaged for linux/amd64, as pack does.
   */
  dependencyPlatforms?: (source: BuildpackSource) => Promise<readonly Platform[] | undefined>;
  /** A composite's metadata label as the real run writes it, for a dry run (see `compositeMetadataLabel`). */
  dependencyMetadataLabel?: (source: BuildpackSource) => Promise<string | undefined>;
  /** Other buildpacks' layers per target (composite packages; see `includeCompositeLayers`). */
  include?: (source: BuildpackSource, plan: PackagePlan) => Promise<BuildOptions["include"]>;
  /**
   * Check every target's image before anything is written (default true): programs for another
   * machine, or metadata that disagrees, fail the run with VERIFY_FAILED (see verifyArtifact).
   */
  verify?: boolean;
  /**
   * Runs when a registry destination holds every blob and manifest and before the tags are
   * written, with what was built: SBOM referrers are attached here, so a tag never names a
   * package whose SBOMs are missing.
   */
  beforeTags?: (plan: PackagePlan, images: readonly BuiltImage[]) => Promise<void>;
  /** Paths meant to be foreign (`--allow`), reported as warnings instead of failing verification. */
  allow?: readonly string[];
  /** pack's `--flatten` (and `--flatten-exclude`): a composite's modules in one layer. */
  flatten?: FlattenOptions;
  onEvent?: (event: PackageEvent) => void;
}

/** What a package run did. */
export interface PackageResult {
  plan: PackagePlan;
  dryRun: boolean;
  /** The index (several targets) or image (one target) written; absent for a dry run. */
  root?: Descriptor;
  images: BuiltImage[];
  /** Tags or ref names written, last. */
  tags: string[];
  /** The files written when a `.cnb` package was split per target (`perTarget`). */
  files?: string[];
}

/**
 * Packages a buildpack for each of its targets: reads buildpack.toml (and package.toml), runs
 * pre-package once, plans every target's layer, writes each layer into a spool beside the output,
 * and writes the images to the destination with the image model (layers moved, mounted or
 * streamed once), tags last. Nothing appears at an output path unless every step succeeded; the
 * spool is removed either way.
 */
export async function packageBuildpack(options: PackageOptions): Promise<PackageResult> {
  if (options.path !== undefined && options.config !== undefined) {
    // pack refuses the pair too: package.toml's [buildpack] uri already says where the buildpack is.
    throw new PolypackError(
      "FLAGS_CONFLICT",
      `--config ${options.config} names the buildpack with its [buildpack] uri; --path ${options.path} cannot also name one`,
      { hint: "drop --path, or drop --config and package the folder alone" },
    );
  }
  const source = await readBuildpackSource({
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.config !== undefined ? { config: options.config } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
    downloads: {
      ...options.downloads,
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    },
  });
  const { descriptor } = source;
  if (options.kind !== undefined && descriptor.kind !== options.kind) {
    const other = options.kind === "extension" ? "buildpack" : "extension";
    throw new PolypackError(
      "PACKAGE_KIND_MISMATCH",
      `${descriptor.file} describes ${descriptor.kind === "extension" ? "an image extension" : "a buildpack"}, not ${options.kind === "extension" ? "an image extension" : "a buildpack"}`,
      { hint: `package it with \`polypack ${other} package\`` },
    );
  }
  // Outputs and caches are checked before any work, so a bad path fails at once and leaves nothing.
  try {
    const paths = await PackagePaths.prepare(options, source);
    try {
      return await runPackage(source, options, paths);
    } catch (error) {
      await paths.abandon();
      throw paths.explain(error);
    }
  } finally {
    await source.cleanup?.();
  }
}

async function runPackage(
  source: BuildpackSource,
  options: PackageOptions,
  paths: PackagePaths,
): Promise<PackageResult> {
  const { dir, descriptor } = source;
  const undeclared =
    descriptor.order.length > 0 &&
    (options.targets ?? []).length === 0 &&
    (source.packageConfig?.targets.length ?? 0) === 0;
  // Said now rather than only with the result: a run that fails later (an undeclared target,
  // verification, missing programs) would otherwise drop the warnings that explain why.
  for (const message of descriptor.warnings ?? []) options.onEvent?.({ type: "warning", message });
  const dependencyPlatforms = undeclared ? await options.dependencyPlatforms?.(source) : undefined;
  const selection = selectTargets(descriptor, {
    ...(dependencyPlatforms ? { dependencyPlatforms } : {}),
    ...(options.targets ? { flags: options.targets } : {}),
    ...(source.packageConfig ? { packageConfig: source.packageConfig } : {}),
    hasRootBin: await hasRootBin(dir),
    strict: options.strict ?? false,
    ...(options.verify === false ? { verify: false } : {}),
  });
  for (const message of selection.notes) options.onEvent?.({ type: "warning", message });
  const prePackage = descriptor.metadata.prePackage;
  const runScript = prePackage !== undefined && !options.dryRun && (options.prePackage ?? true);
  if (runScript) {
    const targets = prePackageTargets(selection.targets);
    options.onEvent?.({ type: "pre-package", command: prePackage, targets });
    await runPrePackage(prePackage, {
      buildpackDir: dir,
      targets,
      ...(options.env ? { env: options.env } : {}),
      ...(options.log ? { output: options.log } : {}),
    });
  }
  const skipOutput = outputSkipper(dir, paths.output?.path);
  const excluded: ExcludedPath[] = [];
  const useDefaults = descriptor.metadata.includeFiles.length === 0;
  const tree = await scanSourceTree(dir, {
    skip: (path) => {
      if (skipOutput(path)) return true;
      const reason = useDefaults ? defaultExclusion(dir, path) : undefined;
      if (reason !== undefined) excluded.push({ path, reason });
      return reason !== undefined;
    },
  });
  const plan = planPackage(descriptor, selection, tree, {
    offline: options.offline ?? false,
    strict: options.strict ?? false,
    missingBinaries: options.dryRun && prePackage !== undefined ? "warn" : "error",
  });
  if (excluded.length > 0) plan.excluded = excluded;
  if (options.dryRun) {
    // The real run narrows a composite's stacks by its dependencies'; the dry run shows that label.
    const label = descriptor.order.length > 0 ? await options.dependencyMetadataLabel?.(source) : undefined;
    if (label !== undefined) plan.metadataLabel = label;
    return { plan, dryRun: true, images: [], tags: [] };
  }
  if (options.destination === undefined) {
    throw new TypeError("packageBuildpack: a destination is required unless dryRun is set");
  }
  const include = await options.include?.(source, plan);

  const dependencyFiles = options.offline
    ? await fetchOfflineDependencies(
        descriptor,
        selection.targets.map((t) => t.target),
        {
          baseDir: dir,
          ...(paths.dependencyCache ? { cacheDir: paths.dependencyCache } : {}),
          ...options.downloads,
          onEvent: (event) => options.onEvent?.({ type: "dependency", event }),
          onDiscard: (path, reason) =>
            options.onEvent?.({
              type: "warning",
              message: `cached dependency ${path} did not match its checksum (${reason}); removed and fetched again`,
            }),
        },
      )
    : new Map<string, OfflineFile>();

  const spool = await LayerSpool.create(spoolNear(options.destination));
  // Each layer is scanned for verification as it is written, instead of being read back.
  const scans = new Map<string, Promise<LayerScan>>();
  paths.spool = spool.dir;
  try {
    const built = await buildPackage(
      plan,
      spool,
      { buildpackDir: dir, dependencyFile: (checksum) => dependencyFiles.get(checksum) },
      {
        ...(options.created ? { created: options.created } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(include ? { include } : {}),
        ...(paths.layerCache !== undefined ? { layerCache: paths.layerCache } : {}),
        ...(options.verify !== false ? { scans } : {}),
        onImage: (image) => options.onEvent?.({ type: "image", image }),
        ...(options.flatten ? { flatten: options.flatten } : {}),
        onWarning: (message) => options.onEvent?.({ type: "warning", message }),
      },
    );
    await verifyBeforeWrite(built.root, options, `${plan.id}@${plan.version}`, scans);
    const beforeTags = options.beforeTags;
    const delivery = await deliverPackage(
      built.root,
      built.images,
      options.destination,
      (event) => options.onEvent?.({ type: "copy", event }),
      beforeTags ? () => beforeTags(plan, built.images) : undefined,
    );
    for (const image of built.images) {
      image.layerWrite.written = delivery.written.has(image.layer.descriptor.digest);
    }
    const root = await built.root.descriptor();
    return {
      plan,
      dryRun: false,
      root,
      images: built.images,
      tags: delivery.tags,
      ...(delivery.files ? { files: delivery.files } : {}),
    };
  } finally {
    await spool.remove();
  }
}

/**
 * Leaves the output out of the buildpack's files when it lies inside the buildpack folder (an
 * earlier run's package at that path, and temporary siblings a crashed run left), so packaging
 * into the folder works run after run instead of being refused. `output` has its parent resolved
 * through symbolic links, so it is compared with the buildpack folder's real path.
 */
function outputSkipper(dir: string, output: string | undefined): (path: string) => boolean {
  if (output === undefined) return () => false;
  let realDir: string;
  try {
    realDir = realpathSync(dir);
  } catch {
    return () => false; // the scan itself reports an unreadable folder
  }
  const inside = relative(realDir, output);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return () => false;
  }
  const outputPath = inside.split(sep).join("/");
  const parent = dirname(outputPath);
  const tempPrefix = `${parent === "." ? "" : `${parent}/`}.${basename(outputPath)}.`;
  return (path) => path === outputPath || (path.startsWith(tempPrefix) && /\.tmp(\.d)?$/.test(path));
}
