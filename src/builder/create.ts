import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  BUILDER_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  BUILDPACK_ORDER_EXTENSIONS_LABEL,
  BUILDPACK_ORDER_LABEL,
  BUILDPACK_SYSTEM_LABEL,
  buildpackLayersLabel,
  EXTENSION_LAYERS_LABEL,
  type ModuleLayers,
} from "../buildpack/labels.js";
import { parseEndpoint } from "../endpoints/endpoint.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { isPolypackError, PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import {
  artifactImageFor,
  configPlatform,
  readArtifact,
  type Artifact,
  type Image,
  type Index,
} from "../image/image.js";
import { newIndex } from "../image/index-edit.js";
import { emptyImage, mutateImage, type AddedLayer } from "../image/mutate.js";
import type { LayerSpool } from "../image/spool.js";
import type { LayerEntry } from "../layer/entry.js";
import { layerMtime } from "../layer/header.js";
import type { ContentSource } from "../oci/content.js";
import { Platform } from "../oci/platform.js";
import { layersFromFolder } from "../package/composite-folder.js";
import { flattenBuilderModules } from "./flatten.js";
import type { BuildpackDownloadOptions } from "../package/http-download.js";
import { checkBuildImage, checkRunImage, checkStackPair, type BaseImageFacts } from "../stack/check.js";
import { imageDistro } from "../stack/base-files.js";
import type { Distro } from "../stack/labels.js";
import { asOciLayer, layersFromImage, type DependencyLayers } from "../package/composite-image.js";
import { dependencyLocation, openLocation } from "../package/composite.js";
import type { BuilderConfig, BuilderGroupEntry, BuilderModuleSource, BuilderOrderEntry } from "./config.js";
import {
  builderMetadataLabel,
  orderFile,
  orderLabel,
  runFile,
  stackFile,
  systemFile,
  systemLabel,
  type BuilderModuleInfo,
} from "./files.js";
import type { Lifecycle } from "./lifecycle.js";

const MIXINS_LABEL = "io.buildpacks.stack.mixins";
// Failures that say nothing about the image, only that polypack cannot get at it from here.
const UNREACHABLE: readonly string[] = [
  "REGISTRY_UNAVAILABLE",
  "REGISTRY_UNAUTHORIZED",
  "REGISTRY_DENIED",
  "REGISTRY_TLS_UNTRUSTED",
  "REGISTRY_TLS_FAILED",
  "AUTH_REALM_REFUSED",
  "AUTH_TOKEN_INVALID",
  "CREDENTIAL_HELPER_FAILED",
];
// Ids of layer entries polypack writes: what ustar's 7 octal digits hold.
const MAX_TAR_ID = 0o7777777;

/** What `createBuilder` needs from the outside world. */
export interface BuilderInputs {
  /** Opens a registry image, OCI layout or `.cnb`. */
  openSource(endpoint: Endpoint): Promise<ContentSource>;
  /** The lifecycle for a target (see lifecycle-source.ts). */
  lifecycleFor(platform: Platform): Promise<Lifecycle>;
  /** Where layers polypack writes go before they are stored. */
  spool: LayerSpool;
  /** The layer member cache folder (see LayerOptions.memberCache), so a re-run compresses nothing anew. */
  memberCache?: string;
  /** How http(s) buildpack uris are downloaded: `--ca-file`, the idle timeout, the cache. */
  downloads?: BuildpackDownloadOptions;
  onWarning?(message: string): void;
}

/** How a builder is made. */
export interface BuilderOptions {
  config: BuilderConfig;
  /** `--target`s; else the config's `[[targets]]`, else the build image's platforms. */
  targets?: readonly BuilderTargetChoice[];
  /** `--label`s. */
  labels?: Readonly<Record<string, string>>;
  /** Turns warnings about a run image that cannot be reached or a module missing a target into errors. */
  strict?: boolean;
  /** pack's `--flatten`: groups of `<id>@<version>`, each put into one layer (see flattenBuilderModules). */
  flatten?: readonly (readonly string[])[];
  createdBy: { name: string; version: string };
}

/** A target as `--target` or `[[targets]]` give it: a platform, and the distros it is meant for. */
export interface BuilderTargetChoice {
  platform: Platform;
  distros?: readonly { name: string; version?: string }[];
}

/** One target's builder image and what went into it. */
export interface BuilderTarget {
  platform: Platform;
  image: Image;
  lifecycle: string;
  buildpacks: BuilderModuleInfo[];
  extensions: BuilderModuleInfo[];
  /** Modules left out because they lack this platform. */
  skipped: string[];
  /**
   * What polypack adds to the build image (its layers and labels over an empty image of the
   * platform), for checks such as `requireVerified` that must not download the base image's layers.
   */
  added: Image;
}

/** The builder: an index over one image per target. */
export interface Builder {
  index: Index;
  targets: BuilderTarget[];
}

/**
 * Makes a multi-arch builder from builder.toml: per target, the build image's child for that
 * platform mutated (pack's layers and labels appended; base layers kept by reference), and one index
 * over them. Nothing is written: `write` stores the result.
 */
export async function createBuilder(options: BuilderOptions, inputs: BuilderInputs): Promise<Builder> {
  const { config } = options;
  const opened = new Map<string, Promise<ContentSource>>();
  const open = (endpoint: Endpoint): Promise<ContentSource> => {
    const key = JSON.stringify(endpoint);
    let source = opened.get(key);
    if (!source) {
      source = inputs.openSource(endpoint);
      opened.set(key, source);
    }
    return source;
  };
  const buildSource = await open(parseEndpoint(config.buildImage));
  const buildRoot = await readArtifact(buildSource);
  const platforms = await chooseTargets(options, buildRoot, config.buildImage);
  // Targets are made side by side: most of the time goes into waiting for registries.
  // A failure is reported for the first target in order, whichever failed first in time.
  const settled = await Promise.allSettled(
    platforms.map((choice) => builderForTarget(options, inputs, open, buildRoot, choice)),
  );
  const targets = settled.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
  return {
    index: newIndex(targets.map((target) => ({ artifact: target.image }))),
    targets,
  };
}

async function chooseTargets(
  options: BuilderOptions,
  buildRoot: Artifact,
  name: string,
): Promise<BuilderTargetChoice[]> {
  if (options.targets && options.targets.length > 0) return [...options.targets];
  if (options.config.targets.length > 0) {
    return options.config.targets.map((t) => ({
      platform: new Platform({
        os: t.os,
        architecture: t.arch,
        ...(t.variant ? { variant: t.variant } : {}),
      }),
      distros: t.distros,
    }));
  }
  if (buildRoot.kind === "image") return [{ platform: Platform.fromJSON(await configPlatform(buildRoot)) }];
  const platforms = (await buildRoot.index()).manifests.flatMap((m) =>
    m.platform ? [Platform.fromJSON(m.platform)] : [],
  );
  const usable = platforms.filter((p) => p.os !== "unknown");
  if (usable.length === 0) {
    throw new PolypackError("BUILD_IMAGE_INVALID", `build image ${name} names no platforms`, {
      hint: "give --target os/arch, or [[targets]] in builder.toml",
    });
  }
  return usable.map((platform) => ({ platform }));
}

async function builderForTarget(
  options: BuilderOptions,
  inputs: BuilderInputs,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
  buildRoot: Artifact,
  choice: BuilderTargetChoice,
): Promise<BuilderTarget> {
  const platform = choice.platform;
  const { config } = options;
  const target = platform.toString();
  const build = await artifactImageFor(buildRoot, platform);
  if (!build) {
    throw new PolypackError(
      "BUILD_IMAGE_PLATFORM_MISSING",
      `build image ${config.buildImage} has no image for ${target}`,
      {
        hint: "use a build image published for this platform, or leave the target out",
      },
    );
  }
  const buildConfig = await build.config();
  const ids = checkBuildImage({ name: config.buildImage, config: buildConfig }, target);
  if (ids.uid > MAX_TAR_ID || ids.gid > MAX_TAR_ID) {
    throw new PolypackError(
      "BUILD_IMAGE_INVALID",
      `build image ${config.buildImage} (${target}) has CNB ids ${ids.uid}:${ids.gid}; polypack writes layer owners up to ${MAX_TAR_ID}`,
      { hint: "use a CNB user and group id below 2097152 (1000 is usual)" },
    );
  }
  const buildLabels = buildConfig.config?.Labels ?? {};
  const buildFacts = {
    name: config.buildImage,
    config: buildConfig,
    distro: await imageDistro(build, config.buildImage),
  };
  checkTargetDistro(choice, buildFacts.distro, config.buildImage);
  const warn = (message: string): void => {
    if (options.strict) {
      throw new PolypackError("BUILDER_MODULE_PLATFORM_MISSING", message, {
        hint: "drop --strict to leave it out of this target",
      });
    }
    inputs.onWarning?.(message);
  };
  // Run images, modules and the lifecycle are read side by side; the first problem found fails.
  const lifecycleRead = inputs.lifecycleFor(platform);
  lifecycleRead.catch(() => undefined);
  const [, collectedBuildpacks, collectedExtensions] = await Promise.all([
    checkRunImages(options, inputs, open, platform, buildFacts),
    collectModules("buildpack", config.buildpacks, config, platform, open, inputs, warn),
    collectModules("extension", config.extensions, config, platform, open, inputs, warn),
  ]);
  const { buildpacks, extensions, moduleLayers } = await flattenModules(
    options.flatten ?? [],
    collectedBuildpacks,
    collectedExtensions,
    inputs,
    target,
  );

  for (const module of [...buildpacks.modules, ...extensions.modules])
    checkModuleTargets(module, platform, buildFacts.distro);
  const note = (message: string): void => inputs.onWarning?.(message);
  const order = resolveOrder(config.order, buildpacks, note, target, config.file);
  const orderExtensions = resolveOrder(config.orderExtensions, extensions, note, target, config.file);
  const systemPre = resolveGroup(config.system.pre, buildpacks, target, config.file);
  const systemPost = resolveGroup(config.system.post, buildpacks, target, config.file);
  const lifecycle = await lifecycleRead;

  const spool = inputs.spool;
  const layerOptions = {
    absoluteNames: true,
    mediaTypes: "oci" as const,
    ...(inputs.memberCache !== undefined ? { memberCache: inputs.memberCache } : {}),
  };
  const add: AddedLayer[] = [];
  const push = async (entries: LayerEntry[]): Promise<void> => {
    add.push({ layer: await spool.write(entries, layerOptions) });
  };
  await push(dirsEntries(ids));
  if (lifecycle.layers) {
    for (const layer of lifecycle.layers) add.push({ layer: asOciLayer(layer) });
    await push([{ type: "symlink", path: "lifecycle", linkname: "/cnb/lifecycle", exactMode: 0o644 }]);
  } else {
    await push(lifecycleEntries(lifecycle));
  }
  for (const layer of moduleLayers) add.push({ layer });
  await push([{ type: "file", path: "cnb/order.toml", content: orderFile(order, orderExtensions) }]);
  const hasSystem = systemPre.length > 0 || systemPost.length > 0;
  if (hasSystem)
    await push([{ type: "file", path: "cnb/system.toml", content: systemFile(systemPre, systemPost) }]);
  await push([{ type: "file", path: "cnb/stack.toml", content: stackFile(config.runImages) }]);
  await push([{ type: "file", path: "cnb/run.toml", content: runFile(config.runImages) }]);
  if (config.buildEnv.length > 0) await push(buildConfigEnvEntries(config));
  await push([]);

  const info = (m: CollectedModule): BuilderModuleInfo => ({
    id: m.id,
    version: m.version,
    ...(m.info.name ? { name: m.info.name } : {}),
    ...(m.info.homepage ? { homepage: m.info.homepage } : {}),
  });
  const labels: Record<string, string> = {
    [BUILDPACK_LAYERS_LABEL]: buildpackLayersLabel(
      mergedLayers(buildLabels[BUILDPACK_LAYERS_LABEL], buildpacks.modules),
    ),
    [EXTENSION_LAYERS_LABEL]: buildpackLayersLabel(
      mergedLayers(buildLabels[EXTENSION_LAYERS_LABEL], extensions.modules),
    ),
    [BUILDPACK_ORDER_LABEL]: orderLabel(config.order),
    [BUILDPACK_ORDER_EXTENSIONS_LABEL]:
      config.orderExtensions.length > 0 ? orderLabel(config.orderExtensions) : "null",
    ...(hasSystem ? { [BUILDPACK_SYSTEM_LABEL]: systemLabel(config.system.pre, config.system.post) } : {}),
    [BUILDER_METADATA_LABEL]: builderMetadataLabel({
      description: config.description,
      buildpacks: buildpacks.modules.map(info),
      extensions: extensions.modules.map(info),
      runImages: config.runImages,
      lifecycle: lifecycle.descriptor,
      createdBy: options.createdBy,
    }),
    [MIXINS_LABEL]: buildLabels[MIXINS_LABEL] ?? "null",
    ...(options.labels ?? {}),
  };
  const image = mutateImage(build, { add, labels, workingDir: "/layers", created: layerMtime() });
  const added = mutateImage(emptyImage(await configPlatform(build)), { add, labels });
  return {
    platform,
    image,
    added,
    lifecycle: lifecycle.descriptor.version,
    buildpacks: buildpacks.modules.map(info),
    extensions: extensions.modules.map(info),
    skipped: [...buildpacks.skipped, ...extensions.skipped],
  };
}

async function checkRunImages(
  options: BuilderOptions,
  inputs: BuilderInputs,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
  platform: Platform,
  build: BaseImageFacts,
): Promise<void> {
  const target = platform.toString();
  for (const run of options.config.runImages) {
    for (const name of [run.image, ...run.mirrors]) {
      let root: Artifact;
      try {
        root = await readArtifact(await open(parseEndpoint(name)));
      } catch (error) {
        if (!isPolypackError(error) || !UNREACHABLE.includes(error.code) || options.strict) throw error;
        inputs.onWarning?.(`run image ${name} could not be checked for ${target}: ${error.message}`);
        continue;
      }
      const image = await artifactImageFor(root, platform);
      if (!image) {
        throw new PolypackError(
          "RUN_IMAGE_PLATFORM_MISSING",
          `run image ${name} has no image for ${target}`,
          {
            hint: "publish the run image for this platform too, or leave the target out",
          },
        );
      }
      const facts = { name, config: await image.config(), distro: await imageDistro(image, name) };
      checkRunImage(facts, target);
      checkStackPair(build, facts, target);
    }
  }
}

interface CollectedModule {
  id: string;
  version: string;
  layer: Layer;
  info: ModuleLayers[string][string];
  /** The order builder.toml brings it in (for --flatten). */
  added: number;
}

interface CollectedModules {
  modules: CollectedModule[];
  skipped: string[];
}

async function collectModules(
  kind: "buildpack" | "extension",
  sources: readonly BuilderModuleSource[],
  config: BuilderConfig,
  platform: Platform,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
  inputs: BuilderInputs,
  warn: (message: string) => void,
): Promise<CollectedModules> {
  const byName = new Map<string, CollectedModule>();
  const skipped: string[] = [];
  for (const source of sources) {
    const given = dependencyLocation(
      source.isImage ? { image: source.location } : { uri: source.location },
      config.dir,
      `${config.file} ${source.key}`,
    );
    const sourceIndex = sources.indexOf(source);
    let made = 0;
    const scratch = async (): Promise<string> => {
      const dir = join(
        inputs.spool.dir,
        `${kind}-${platform.toString().replaceAll("/", "-")}-${sourceIndex}-${made++}`,
      );
      await mkdir(dir, { recursive: true });
      return dir;
    };
    const location = await openLocation(
      given,
      inputs.downloads ? { downloads: inputs.downloads } : {},
      scratch,
      `${config.file} ${source.key}`,
    );
    let part: DependencyLayers;
    try {
      part =
        location.kind === "folder"
          ? await layersFromFolder(location.path, platform, inputs.spool)
          : await layersFromImage(await open(location), platform, kind);
    } catch (error) {
      if (!isPolypackError(error, "COMPOSITE_PLATFORM_MISSING")) throw error;
      const name = source.id ?? source.location;
      warn(
        `${kind} ${name} (${source.key}) has no image for ${platform.toString()}; it is left out of that target`,
      );
      skipped.push(name);
      continue;
    }
    for (const warning of part.warnings) inputs.onWarning?.(warning);
    for (const [id, versions] of Object.entries(part.moduleLayers)) {
      for (const [version, info] of Object.entries(versions)) {
        const layer = part.layers.find((l) => l.diffID === info.layerDiffID);
        if (!layer) {
          throw new PolypackError(
            "BUILDPACKAGE_INVALID",
            `${source.location}: the layer of ${id}@${version} (${info.layerDiffID}) is not in the image`,
          );
        }
        // Where builder.toml brings it in: pack flattens modules in that order.
        const added = byName.get(`${id}@${version}`)?.added ?? byName.size;
        byName.set(`${id}@${version}`, { id, version, layer, info, added });
      }
    }
    if (
      source.id !== undefined &&
      ![...byName.values()].some(
        (m) => m.id === source.id && (source.version === undefined || m.version === source.version),
      )
    ) {
      throw new PolypackError(
        "BUILDER_CONFIG_INVALID",
        `${config.file} ${source.key}: ${source.location} does not hold ${source.id}${source.version ? `@${source.version}` : ""}`,
      );
    }
  }
  // pack adds modules sorted by id@version, so the layer order does not depend on builder.toml's.
  const modules = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
  return { modules, skipped };
}

/**
 * The modules after `--flatten` (their label entries pointing at the flattened layers) and the
 * module layers in the order they go into the image, each once: the modules of a flattened
 * buildpackage share one layer, which the image must not hold twice.
 */
async function flattenModules(
  groups: readonly (readonly string[])[],
  buildpacks: CollectedModules,
  extensions: CollectedModules,
  inputs: BuilderInputs,
  target: string,
): Promise<{ buildpacks: CollectedModules; extensions: CollectedModules; moduleLayers: Layer[] }> {
  const known = new Set([...buildpacks.modules, ...extensions.modules].map((m) => `${m.id}@${m.version}`));
  for (const wanted of new Set(groups.flat())) {
    if (!known.has(wanted))
      inputs.onWarning?.(`--flatten names ${wanted}, which the ${target} builder does not hold`);
  }
  const bp = await flattenBuilderModules(buildpacks.modules, groups, inputs.spool, "buildpack");
  const ext = await flattenBuilderModules(extensions.modules, groups, inputs.spool, "extension");
  return {
    buildpacks: { ...buildpacks, modules: bp.modules },
    extensions: { ...extensions, modules: ext.modules },
    moduleLayers: [...bp.layers, ...ext.layers],
  };
}

function resolveGroup(
  group: readonly BuilderGroupEntry[],
  collected: CollectedModules,
  target: string,
  file: string,
): BuilderGroupEntry[] {
  return group.map((entry) => {
    const matching = collected.modules.filter((m) => m.id === entry.id);
    const wanted = `${entry.id}${entry.version ? `@${entry.version}` : ""}`;
    const left = collected.skipped.includes(entry.id) ? " (it has no image for this platform)" : "";
    if (matching.length === 0) {
      throw new PolypackError(
        "BUILDER_ORDER_INVALID",
        `${file}: the order names ${wanted}, which is not on the ${target} builder${left}`,
        {
          hint: "add it to [[buildpacks]] (or [[extensions]]), or remove it from the order",
        },
      );
    }
    const versions = [...new Set(matching.map((m) => m.version))];
    if (entry.version === undefined && versions.length > 1) {
      throw new PolypackError(
        "BUILDER_ORDER_INVALID",
        `${file}: the order names ${entry.id} without a version, but the builder has ${versions.join(", ")}`,
        {
          hint: "give the version in the [[order.group]] entry",
        },
      );
    }
    const version = entry.version ?? versions[0]!;
    if (!versions.includes(version)) {
      throw new PolypackError(
        "BUILDER_ORDER_INVALID",
        `${file}: the order names ${wanted}, but the ${target} builder has ${entry.id} ${versions.join(", ")}`,
      );
    }
    return { ...entry, version };
  });
}

/**
 * The order with every entry's version filled in. On a target some modules were left out of (they
 * lack its platform), an optional entry naming a missing module is dropped and a group that cannot
 * be satisfied is dropped with a warning; a target left without any group is an error, as is a
 * missing module anywhere else.
 */
function resolveOrder(
  order: readonly BuilderOrderEntry[],
  collected: CollectedModules,
  warn: (message: string) => void,
  target: string,
  file: string,
): BuilderOrderEntry[] {
  if (collected.skipped.length === 0) {
    return order.map((entry) => ({ group: resolveGroup(entry.group, collected, target, file) }));
  }
  const present = (id: string): boolean => collected.modules.some((m) => m.id === id);
  const resolved: BuilderOrderEntry[] = [];
  for (const [i, entry] of order.entries()) {
    const kept = entry.group.filter((member) => present(member.id) || !member.optional);
    const missing = kept.filter((member) => !present(member.id));
    if (missing.length > 0) {
      warn(
        `order group ${i + 1} (${entry.group.map((m) => m.id).join(", ")}) cannot run on ${target} without ${missing.map((m) => m.id).join(", ")}; it is left out of that target`,
      );
      continue;
    }
    resolved.push({ group: resolveGroup(kept, collected, target, file) });
  }
  if (order.length > 0 && resolved.length === 0) {
    throw new PolypackError(
      "BUILDER_ORDER_INVALID",
      `${file}: no [[order]] group can run on ${target}: ${collected.skipped.join(", ")} ${collected.skipped.length === 1 ? "has" : "have"} no image for it`,
      { hint: "publish those buildpacks for this platform, or leave the target out" },
    );
  }
  return resolved;
}

function mergedLayers(existing: string | undefined, modules: readonly CollectedModule[]): ModuleLayers {
  const layers: ModuleLayers = {};
  if (existing) {
    try {
      Object.assign(layers, JSON.parse(existing) as ModuleLayers);
    } catch {
      // A build image with a malformed label gets a fresh one.
    }
  }
  for (const module of modules) layers[module.id] = { ...layers[module.id], [module.version]: module.info };
  return layers;
}

function dirsEntries(ids: { uid: number; gid: number }): LayerEntry[] {
  const owned = (path: string): LayerEntry => ({
    type: "directory",
    path,
    exactMode: 0o755,
    uid: ids.uid,
    gid: ids.gid,
  });
  const root = (path: string): LayerEntry => ({ type: "directory", path, exactMode: 0o755 });
  return [
    owned("workspace"),
    owned("layers"),
    root("cnb"),
    root("cnb/buildpacks"),
    root("cnb/extensions"),
    root("platform"),
    root("platform/env"),
    root("cnb/build-config"),
    root("cnb/build-config/env"),
  ];
}

function lifecycleEntries(lifecycle: Lifecycle): LayerEntry[] {
  return [
    { type: "directory", path: "cnb/lifecycle", exactMode: 0o755 },
    ...lifecycle.files.map((file): LayerEntry =>
      file.linkname !== undefined
        ? {
            type: "symlink",
            path: `cnb/lifecycle/${file.name}`,
            linkname: file.linkname,
            exactMode: file.mode,
          }
        : { type: "file", path: `cnb/lifecycle/${file.name}`, content: file.content, exactMode: file.mode },
    ),
    { type: "symlink", path: "lifecycle", linkname: "/cnb/lifecycle", exactMode: 0o644 },
  ];
}

function buildConfigEnvEntries(config: BuilderConfig): LayerEntry[] {
  const entries: LayerEntry[] = [];
  for (const env of config.buildEnv) {
    const name = env.suffix && env.suffix !== "override" ? `${env.name}.${env.suffix}` : env.name;
    entries.push({ type: "file", path: `cnb/build-config/env/${name}`, content: env.value });
    if (env.delim !== undefined)
      entries.push({ type: "file", path: `cnb/build-config/env/${env.name}.delim`, content: env.delim });
  }
  return entries;
}

/**
 * pack's rule: a module that declares `[[targets]]` must declare one the builder image satisfies
 * (os, architecture, variant when given, and a distro when it lists any and the build image names
 * its own).
 */
function checkModuleTargets(module: CollectedModule, platform: Platform, distro: Distro | undefined): void {
  const targets = module.info.targets ?? [];
  if (targets.length === 0) return;
  const fits = targets.some((t) => {
    const declared = new Platform({
      os: t.os,
      architecture: t.arch,
      ...(t.variant ? { variant: t.variant } : {}),
    });
    if (declared.os !== platform.os || declared.architecture !== platform.architecture) return false;
    if (declared.variant !== "" && platform.variant !== "" && declared.variant !== platform.variant)
      return false;
    const distros = t.distros ?? [];
    if (distros.length === 0 || distro === undefined) return true;
    return distros.some(
      (d) =>
        d.name === distro.name &&
        (d.version === undefined || d.version === "" || d.version === distro.version),
    );
  });
  if (!fits) {
    const declared = targets
      .map(
        (t) =>
          `${t.os}/${t.arch}${t.variant ? `/${t.variant}` : ""}${(t.distros ?? []).map((d) => ` ${d.name ?? ""}@${d.version ?? "*"}`).join("")}`,
      )
      .join(", ");
    throw new PolypackError(
      "BUILDER_MODULE_PLATFORM_MISSING",
      `${module.id}@${module.version} declares targets ${declared}, none of which is ${platform.toString()}${distro ? ` on ${distro.name} ${distro.version ?? ""}` : ""}`,
      { hint: "use a build image the buildpack supports, or add the target to the buildpack" },
    );
  }
}

/** A target that names distros is only built on a build image of one of them. */
function checkTargetDistro(choice: BuilderTargetChoice, found: Distro | undefined, name: string): void {
  const distros = choice.distros ?? [];
  if (distros.length === 0 || found === undefined) return;
  const fits = distros.some(
    (d) =>
      d.name === found.name && (d.version === undefined || d.version === "" || d.version === found.version),
  );
  if (!fits) {
    throw new PolypackError(
      "STACK_MISMATCH",
      `build image ${name} (${choice.platform.toString()}) is ${found.name} ${found.version ?? ""}, but the target names ${distros.map((d) => `${d.name}@${d.version ?? "*"}`).join(", ")}`,
      { hint: "use a build image of that distro, or change the target" },
    );
  }
}
