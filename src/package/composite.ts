import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Reference } from "../registry/reference.js";
import { unpackBuildpackArchive } from "./archive-unpack.js";
import { downloadBuildpack, type BuildpackDownloadOptions } from "./http-download.js";
import { REGISTRY_URN_PREFIX, resolveRegistryUrn } from "./buildpack-registry.js";
import { fileURLToPath } from "node:url";
import { isImageDependency, type PackageDependency } from "../buildpack/index.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { PolypackError } from "../errors/index.js";
import type { ContentSource } from "../oci/content.js";
import { Platform } from "../oci/platform.js";
import type { IncludedLayers } from "./build.js";
import { layersFromFolder } from "./composite-folder.js";
import { layersFromImage, metadataStacksOf, platformsOf, type DependencyLayers } from "./composite-image.js";
import { hasRootBin, readBuildpackSource } from "./source.js";
import { selectTargets } from "./plan-targets.js";
import {
  buildpackageMetadataLabel,
  packageStacks,
  type LabelStack,
  type ModuleLayers,
} from "../buildpack/labels.js";
import type { PackagePlan, TargetPlan } from "./plan.js";
import type { BuildpackSource } from "./source.js";
import { resolvedStacks } from "../buildpack/stacks.js";
import type { LayerSpool } from "../image/spool.js";
import { makeScratchDir, removeScratchDir } from "../util/scratch-dir.js";

/** How a composite package reaches the buildpacks its package.toml names. */
export interface CompositeOptions {
  /** Opens a registry image, OCI layout or `.cnb` file. */
  openSource: (endpoint: Endpoint) => Promise<ContentSource>;
  /** Receives warnings (for example an included image that names no architecture). */
  onWarning?: (message: string) => void;
  /** `-r/--buildpack-registry`: the registry index `urn:cnb:registry:` uris are resolved through. */
  buildpackRegistry?: string;
  /** How http(s) dependency uris are downloaded. */
  downloads?: BuildpackDownloadOptions;
}

/**
 * Where a package.toml dependency lives: a folder, an archive of a buildpack folder or of an OCI
 * layout (`.tgz`, `.tar`), a buildpack registry urn, or an image endpoint.
 */
export type DependencyLocation =
  | { kind: "folder"; path: string }
  | { kind: "archive"; path: string }
  | { kind: "urn"; urn: string }
  | { kind: "http"; url: URL }
  | Endpoint;

/** A location after urns are resolved and archives unpacked: a folder or an image endpoint. */
export type OpenedLocation = { kind: "folder"; path: string } | Endpoint;

/**
 * Resolves a urn through the buildpack registry, and unpacks an archive into `scratch` (a folder
 * the caller removes): a buildpack folder stays a folder, an OCI layout becomes a layout endpoint.
 */
export async function openLocation(
  location: DependencyLocation,
  options: Pick<CompositeOptions, "buildpackRegistry" | "downloads">,
  scratch: () => Promise<string>,
  file: string,
): Promise<OpenedLocation> {
  if (location.kind === "urn") {
    return {
      kind: "registry",
      reference: await resolveRegistryUrn(location.urn, options.buildpackRegistry, file, options.downloads),
    };
  }
  let archive: string;
  if (location.kind === "http") {
    // A .cnb is a tar of an OCI layout, an archive of a folder a tar too: both are unpacked.
    archive = await downloadBuildpack(location.url, await scratch(), file, options.downloads);
  } else if (location.kind === "archive") {
    archive = location.path;
  } else {
    return location;
  }
  const dir = await scratch();
  await unpackBuildpackArchive(archive, dir);
  return existsSync(join(dir, "oci-layout")) ? { kind: "layout", path: dir } : { kind: "folder", path: dir };
}

/** Runs `fn` with a scratch-folder maker whose folders are removed afterwards. */
async function withScratch<T>(fn: (scratch: () => Promise<string>) => Promise<T>): Promise<T> {
  const made: string[] = [];
  try {
    return await fn(async () => {
      const dir = await makeScratchDir("polypack-dependency-");
      made.push(dir);
      return dir;
    });
  } finally {
    await Promise.all(made.map((dir) => removeScratchDir(dir)));
  }
}

/** A function giving each target the other buildpacks' layers, as `buildPackage` takes it. */
export type IncludeLayers = (target: TargetPlan, spool: LayerSpool) => Promise<IncludedLayers>;

/**
 * For a package.toml with `[[dependencies]]`: per target, the layers of every dependency for that
 * target's platform (folders packaged like the top buildpack into the spool, buildpackages from
 * `.cnb` files, layouts and registries taking the matching platform's layers by reference, so
 * they are mounted or copied straight from where they are when the package is written), their labels merged as pack merges them,
 * the stacks narrowed to what all support, and every `[[order.group]]` entry checked to be
 * present. Undefined for a package without dependencies.
 */
export function includeCompositeLayers(
  source: BuildpackSource,
  plan: PackagePlan,
  options: CompositeOptions,
): Promise<IncludeLayers | undefined> {
  const config = source.packageConfig;
  if (config === undefined || config.dependencies.length === 0) return Promise.resolve(undefined);
  const base = source.configPath ? resolve(source.configPath, "..") : source.dir;
  const locations = config.dependencies.map((dependency) =>
    dependencyLocation(dependency, base, config.file),
  );
  const sources = new Map<number, Promise<ContentSource>>();
  const open = (i: number, endpoint: Endpoint): Promise<ContentSource> => {
    let opened = sources.get(i);
    if (opened === undefined) {
      opened = options.openSource(endpoint);
      sources.set(i, opened);
    }
    return opened;
  };
  // Urns are resolved and archives unpacked once, into the spool, which the run removes.
  const opened = new Map<number, Promise<OpenedLocation>>();
  return Promise.resolve(async (target: TargetPlan, spool: LayerSpool) => {
    const platform = Platform.fromJSON(target.platform);
    const parts: DependencyLayers[] = [];
    for (const [i, raw] of locations.entries()) {
      let once = opened.get(i);
      if (once === undefined) {
        let made = 0;
        const scratch = async (): Promise<string> => {
          const dir = join(spool.dir, `dependency-${i}-${made++}`);
          await mkdir(dir, { recursive: true });
          return dir;
        };
        once = openLocation(raw, options, scratch, config.file);
        opened.set(i, once);
      }
      const location = await once;
      parts.push(
        location.kind === "folder"
          ? await layersFromFolder(location.path, platform, spool)
          : await layersFromImage(await open(i, location), platform),
      );
    }
    for (const part of parts) for (const warning of part.warnings) options.onWarning?.(warning);
    const moduleLayers: ModuleLayers = {};
    const seen = new Set<string>();
    const layers = parts
      .flatMap((part) => part.layers)
      .filter((layer) => !seen.has(layer.diffID) && seen.add(layer.diffID));
    for (const part of parts) {
      for (const [id, versions] of Object.entries(part.moduleLayers))
        moduleLayers[id] = { ...moduleLayers[id], ...versions };
    }
    checkOrder(source, plan, moduleLayers, target.key);
    const stacks = resolvedStacks(
      packageStacks(source.descriptor),
      parts.map((part) => part.stacks),
    );
    if (stacks.length === 0) {
      throw new PolypackError(
        "COMPOSITE_STACKS_INCOMPATIBLE",
        `${plan.id}@${plan.version} for ${target.key}: the buildpacks of ${config.file} share no stack ` +
          `(${parts.map((part) => part.stacks.map((s) => s.id).join(" or ") || "none").join("; ")})`,
        {
          hint: "include buildpacks that support a common stack, or ones that declare targets instead of stacks",
        },
      );
    }
    return { layers, moduleLayers, metadataLabel: buildpackageMetadataLabel(source.descriptor, stacks) };
  });
}

/**
 * The platforms every package.toml dependency of a composite has (os/arch/variant, in the first
 * dependency's order), for a composite that declares no targets: pack would package it for
 * linux/amd64 alone. Dependencies that name no architecture do not narrow the set. Undefined when
 * there are no dependencies or they share no platform.
 */
export async function compositeDefaultPlatforms(
  source: BuildpackSource,
  options: Pick<CompositeOptions, "openSource" | "buildpackRegistry" | "downloads">,
): Promise<Platform[] | undefined> {
  const config = source.packageConfig;
  if (config === undefined || config.dependencies.length === 0) return undefined;
  const base = source.configPath ? resolve(source.configPath, "..") : source.dir;
  return withScratch(async (scratch) => {
    let shared: Platform[] | undefined;
    for (const dependency of config.dependencies) {
      const raw = dependencyLocation(dependency, base, config.file);
      const location = await openLocation(raw, options, scratch, config.file);
      const platforms = (await dependencyPlatforms(location, options)).map((p) => p.with({ osVersion: "" }));
      if (platforms.length === 0 || platforms.some((p) => p.architecture === "")) continue;
      shared =
        shared === undefined
          ? uniquePlatforms(platforms)
          : shared.filter((p) => platforms.some((q) => q.toString() === p.toString()));
    }
    return shared !== undefined && shared.length > 0 ? shared : undefined;
  });
}

/**
 * The buildpackage metadata label a composite's real run writes, for a dry run to show: the
 * composite's stacks narrowed by each dependency's, as `includeCompositeLayers` narrows them.
 * Undefined for a buildpack without package.toml dependencies.
 */
export async function compositeMetadataLabel(
  source: BuildpackSource,
  options: Pick<CompositeOptions, "openSource" | "buildpackRegistry" | "downloads">,
): Promise<string | undefined> {
  const config = source.packageConfig;
  if (config === undefined || config.dependencies.length === 0) return undefined;
  const base = source.configPath ? resolve(source.configPath, "..") : source.dir;
  const children = await withScratch(async (scratch) => {
    const stacks: LabelStack[][] = [];
    for (const dependency of config.dependencies) {
      const raw = dependencyLocation(dependency, base, config.file);
      const location = await openLocation(raw, options, scratch, config.file);
      if (location.kind === "folder") {
        stacks.push(packageStacks((await readBuildpackSource({ path: location.path })).descriptor));
      } else {
        stacks.push(await metadataStacksOf(await options.openSource(location)));
      }
    }
    return stacks;
  });
  const stacks = resolvedStacks(packageStacks(source.descriptor), children);
  return buildpackageMetadataLabel(source.descriptor, stacks);
}

async function dependencyPlatforms(
  location: OpenedLocation,
  options: Pick<CompositeOptions, "openSource">,
): Promise<Platform[]> {
  if (location.kind !== "folder") return platformsOf(await options.openSource(location));
  const { descriptor } = await readBuildpackSource({ path: location.path });
  const selection = selectTargets(descriptor, { hasRootBin: await hasRootBin(location.path) });
  return selection.targets.map((t) => t.platform);
}

function uniquePlatforms(platforms: readonly Platform[]): Platform[] {
  const seen = new Set<string>();
  return platforms.filter((p) => !seen.has(p.toString()) && seen.add(p.toString()));
}

/**
 * Reads a package.toml dependency as pack locates it: `image` is a registry reference; `uri` is a
 * `docker://` reference, a `urn:cnb:registry:` locator, a local path or `file://` URL naming a
 * buildpack folder, an OCI layout, a `.cnb` or a `.tgz`/`.tar` archive, or else a bare image
 * reference (pack's "naked" locator: no scheme, not a path that exists, and holding `/`, `:` or `@`).
 */
export function dependencyLocation(
  dependency: PackageDependency,
  base: string,
  file: string,
): DependencyLocation {
  if (isImageDependency(dependency)) return { kind: "registry", reference: dependency.image };
  const { uri } = dependency;
  if (uri.startsWith("docker://")) return { kind: "registry", reference: uri.slice("docker://".length) };
  if (uri.startsWith(REGISTRY_URN_PREFIX)) return { kind: "urn", urn: uri };
  if (/^https?:\/\//i.test(uri)) return { kind: "http", url: new URL(uri) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith("file://")) {
    throw new PolypackError(
      "DEPENDENCY_URI_UNSUPPORTED",
      `${file}: dependency uri ${JSON.stringify(uri)} is not local`,
      {
        hint: 'download it first, or name a registry image with image = "..." or uri = "docker://..."',
      },
    );
  }
  const path = uri.startsWith("file://") ? fileURLToPath(uri) : resolve(base, uri);
  if (!existsSync(path)) {
    if (isNakedReference(uri)) return { kind: "registry", reference: uri };
    throw new PolypackError(
      "PATH_NOT_FOUND",
      `${file}: dependency ${JSON.stringify(uri)} does not exist (${path})`,
    );
  }
  if (!statSync(path).isDirectory()) {
    return /\.(tgz|tar\.gz|tar)$/i.test(path) ? { kind: "archive", path } : { kind: "cnb", path };
  }
  if (existsSync(join(path, "oci-layout"))) return { kind: "layout", path };
  return { kind: "folder", path };
}

function isNakedReference(uri: string): boolean {
  if (uri.startsWith(".") || uri.startsWith("/") || !/[/:@]/.test(uri)) return false;
  try {
    Reference.parse(uri);
    return true;
  } catch {
    return false;
  }
}

// pack refuses a composite whose order names a buildpack without its version or one the package
// does not hold, and one that holds a buildpack no order uses (pack's validateBuildpacks).
function checkOrder(source: BuildpackSource, plan: PackagePlan, layers: ModuleLayers, target: string): void {
  const referrers: { name: string; groups: { id: string; version?: string }[] }[] = [
    {
      name: `${plan.id}@${plan.version}`,
      groups: source.descriptor.order.flatMap((o) => o.group),
    },
    ...Object.entries(layers).flatMap(([id, versions]) =>
      Object.entries(versions).map(([version, info]) => ({
        name: `${id}@${version}`,
        groups: (info.order ?? []).flatMap((o) => o.group),
      })),
    ),
  ];
  for (const { name, groups } of referrers) {
    const unversioned = groups.find((entry) => !entry.version);
    if (unversioned !== undefined) {
      throw new PolypackError(
        "COMPOSITE_ORDER_VERSION_MISSING",
        `${name}: its order names ${unversioned.id} without a version, which a package cannot resolve`,
        { hint: `add version = "..." to that [[order.group]] entry (${source.descriptor.file})` },
      );
    }
  }
  const groups = referrers.flatMap((r) => r.groups);
  const used = new Set(groups.map((entry) => `${entry.id}@${entry.version}`));
  for (const [id, versions] of Object.entries(layers)) {
    for (const version of Object.keys(versions)) {
      if (used.has(`${id}@${version}`)) continue;
      throw new PolypackError(
        "COMPOSITE_DEPENDENCY_UNUSED",
        `${plan.id}@${plan.version} for ${target}: ${id}@${version}, from the dependencies of ${source.packageConfig?.file ?? "package.toml"}, is not used by any order`,
        { hint: "add it to the composite's [[order.group]] entries, or remove the dependency" },
      );
    }
  }
  for (const entry of groups) {
    const versions = layers[entry.id];
    const present =
      versions !== undefined && (entry.version === undefined || versions[entry.version] !== undefined);
    if (!present) {
      const wanted = `${entry.id}${entry.version ? `@${entry.version}` : ""}`;
      const have = Object.entries(layers).flatMap(([id, v]) =>
        Object.keys(v).map((version) => `${id}@${version}`),
      );
      throw new PolypackError(
        "COMPOSITE_DEPENDENCY_MISSING",
        `${plan.id}@${plan.version} for ${target}: its order names ${wanted}, which none of the package.toml dependencies holds (they hold ${have.join(", ") || "nothing"})`,
        { hint: "add the buildpack to [[dependencies]] in package.toml" },
      );
    }
  }
}
