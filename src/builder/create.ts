import {
  buildpackLayersLabel,
  EXTENSION_LAYERS_LABEL,
  BUILDPACK_LAYERS_LABEL,
  type ModuleLayers,
} from "../buildpack/labels.js";
import { parseEndpoint } from "../endpoints/endpoint.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { isPolypackError, PolypackError } from "../errors/index.js";
import type { Layer } from "../image/blob.js";
import {
  configPlatform,
  imageFor,
  readArtifact,
  type Artifact,
  type Image,
  type Index,
} from "../image/image.js";
import { newIndex } from "../image/index-edit.js";
import { mutateImage, type AddedLayer } from "../image/mutate.js";
import type { LayerSpool } from "../image/spool.js";
import type { LayerEntry } from "../layer/entry.js";
import { layerMtime } from "../layer/header.js";
import type { ContentSource } from "../oci/content.js";
import { Platform } from "../oci/platform.js";
import { layersFromFolder } from "../package/composite-folder.js";
import { layersFromImage, type DependencyLayers } from "../package/composite-image.js";
import { dependencyLocation } from "../package/composite.js";
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

/** The label a builder's metadata is kept in. */
export const BUILDER_METADATA_LABEL = "io.buildpacks.builder.metadata";
const ORDER_LABEL = "io.buildpacks.buildpack.order";
const ORDER_EXTENSIONS_LABEL = "io.buildpacks.buildpack.order-extensions";
const SYSTEM_LABEL = "io.buildpacks.buildpack.system";
const MIXINS_LABEL = "io.buildpacks.stack.mixins";
const DISTRO_NAME_LABEL = "io.buildpacks.base.distro.name";
const DISTRO_VERSION_LABEL = "io.buildpacks.base.distro.version";

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
  onWarning?(message: string): void;
}

/** How a builder is made. */
export interface BuilderOptions {
  config: BuilderConfig;
  /** `--target`s; else the config's `[[targets]]`, else the build image's platforms. */
  targets?: readonly Platform[];
  /** `--label`s. */
  labels?: Readonly<Record<string, string>>;
  /** Turns warnings about a run image that cannot be reached or a module missing a target into errors. */
  strict?: boolean;
  createdBy: { name: string; version: string };
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
  const targets: BuilderTarget[] = [];
  for (const platform of platforms) {
    targets.push(await builderForTarget(options, inputs, open, buildRoot, platform));
  }
  return {
    index: newIndex(targets.map((target) => ({ artifact: target.image }))),
    targets,
  };
}

async function chooseTargets(
  options: BuilderOptions,
  buildRoot: Artifact,
  name: string,
): Promise<Platform[]> {
  if (options.targets && options.targets.length > 0) return [...options.targets];
  if (options.config.targets.length > 0) {
    return options.config.targets.map(
      (t) => new Platform({ os: t.os, architecture: t.arch, ...(t.variant ? { variant: t.variant } : {}) }),
    );
  }
  if (buildRoot.kind === "image") return [Platform.fromJSON(await configPlatform(buildRoot))];
  const platforms = (await buildRoot.index()).manifests.flatMap((m) =>
    m.platform ? [Platform.fromJSON(m.platform)] : [],
  );
  const usable = platforms.filter((p) => p.os !== "unknown");
  if (usable.length === 0) {
    throw new PolypackError("BUILD_IMAGE_INVALID", `build image ${name} names no platforms`, {
      hint: "give --target os/arch, or [[targets]] in builder.toml",
    });
  }
  return usable;
}

/** The image for `platform` in a registry/layout artifact, or undefined when it has none. */
async function childFor(root: Artifact, platform: Platform): Promise<Image | undefined> {
  if (root.kind === "index") return imageFor(root, platform);
  return Platform.fromJSON(await configPlatform(root)).overlaps(platform) ? root : undefined;
}

async function builderForTarget(
  options: BuilderOptions,
  inputs: BuilderInputs,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
  buildRoot: Artifact,
  platform: Platform,
): Promise<BuilderTarget> {
  const { config } = options;
  const target = platform.toString();
  const build = await childFor(buildRoot, platform);
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
  const ids = cnbIds(
    buildConfig.config?.Env ?? [],
    buildConfig.config?.User ?? "",
    config.buildImage,
    target,
  );
  const buildLabels = buildConfig.config?.Labels ?? {};
  await checkRunImages(options, inputs, open, platform, buildLabels);

  const warn = (message: string): void => {
    if (options.strict)
      throw new PolypackError("BUILDER_MODULE_PLATFORM_MISSING", message, {
        hint: "drop --strict to leave it out of this target",
      });
    inputs.onWarning?.(message);
  };
  const buildpacks = await collectModules(
    "buildpack",
    config.buildpacks,
    config,
    platform,
    open,
    inputs,
    warn,
  );
  const extensions = await collectModules(
    "extension",
    config.extensions,
    config,
    platform,
    open,
    inputs,
    warn,
  );

  const order = resolveOrder(config.order, buildpacks, "buildpack", target, config.file);
  const orderExtensions = resolveOrder(config.orderExtensions, extensions, "extension", target, config.file);
  const systemPre = resolveGroup(config.system.pre, buildpacks, target, config.file);
  const systemPost = resolveGroup(config.system.post, buildpacks, target, config.file);
  // Read last: the order and modules are checked before the largest download.
  const lifecycle = await inputs.lifecycleFor(platform);

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
  await push(lifecycleEntries(lifecycle));
  for (const module of [...buildpacks.modules, ...extensions.modules]) add.push({ layer: module.layer });
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
    [ORDER_LABEL]: orderLabel(config.order),
    [ORDER_EXTENSIONS_LABEL]: config.orderExtensions.length > 0 ? orderLabel(config.orderExtensions) : "null",
    ...(hasSystem ? { [SYSTEM_LABEL]: systemLabel(config.system.pre, config.system.post) } : {}),
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
  return {
    platform,
    image,
    lifecycle: lifecycle.descriptor.version,
    buildpacks: buildpacks.modules.map(info),
    extensions: extensions.modules.map(info),
    skipped: [...buildpacks.skipped, ...extensions.skipped],
  };
}

/** CNB_USER_ID and CNB_GROUP_ID of a build image, checked: integers, and a User that is not root. */
function cnbIds(
  env: readonly string[],
  user: string,
  name: string,
  target: string,
): { uid: number; gid: number } {
  const value = (key: string): string | undefined =>
    env.find((entry) => entry.startsWith(`${key}=`))?.slice(key.length + 1);
  const id = (key: string): number => {
    const text = value(key);
    if (text === undefined || !/^\d+$/.test(text) || Number(text) > 2097151) {
      throw new PolypackError(
        "BUILD_IMAGE_INVALID",
        text === undefined
          ? `build image ${name} (${target}) does not set ${key}`
          : `build image ${name} (${target}) sets ${key}=${text}, which is not a user id`,
        {
          hint: "a CNB build image sets CNB_USER_ID and CNB_GROUP_ID to the build user's ids (see `polypack stack create`)",
        },
      );
    }
    return Number(text);
  };
  const ids = { uid: id("CNB_USER_ID"), gid: id("CNB_GROUP_ID") };
  const userPart = user.split(":")[0] ?? "";
  if (userPart === "" || userPart === "root" || userPart === "0") {
    throw new PolypackError(
      "BUILD_IMAGE_INVALID",
      `build image ${name} (${target}) runs as ${user === "" ? "root (no User set)" : `User ${JSON.stringify(user)}`}`,
      { hint: "a CNB build image runs as its non-root build user (User = CNB_USER_ID)" },
    );
  }
  return ids;
}

async function checkRunImages(
  options: BuilderOptions,
  inputs: BuilderInputs,
  open: (endpoint: Endpoint) => Promise<ContentSource>,
  platform: Platform,
  buildLabels: Readonly<Record<string, string>>,
): Promise<void> {
  const target = platform.toString();
  for (const run of options.config.runImages) {
    for (const name of [run.image, ...run.mirrors]) {
      let root: Artifact;
      try {
        root = await readArtifact(await open(parseEndpoint(name)));
      } catch (error) {
        if (!isPolypackError(error) || options.strict) throw error;
        inputs.onWarning?.(`run image ${name} could not be checked for ${target}: ${error.message}`);
        continue;
      }
      const image = await childFor(root, platform);
      if (!image) {
        throw new PolypackError(
          "RUN_IMAGE_PLATFORM_MISSING",
          `run image ${name} has no image for ${target}`,
          {
            hint: "publish the run image for this platform too, or leave the target out",
          },
        );
      }
      const labels = (await image.config()).config?.Labels ?? {};
      for (const key of [DISTRO_NAME_LABEL, DISTRO_VERSION_LABEL]) {
        if (labels[key] !== buildLabels[key]) {
          throw new PolypackError(
            "STACK_MISMATCH",
            `run image ${name} (${target}) has ${key}=${JSON.stringify(labels[key] ?? "")} but the build image has ${JSON.stringify(buildLabels[key] ?? "")}`,
            { hint: "build and run images must share their distro; use a matching pair" },
          );
        }
      }
    }
  }
}

interface CollectedModule {
  id: string;
  version: string;
  layer: Layer;
  info: ModuleLayers[string][string];
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
    const location = dependencyLocation(
      source.isImage ? { image: source.location } : { uri: source.location },
      config.dir,
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
        byName.set(`${id}@${version}`, { id, version, layer, info });
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

function resolveOrder(
  order: readonly BuilderOrderEntry[],
  collected: CollectedModules,
  _kind: string,
  target: string,
  file: string,
): BuilderOrderEntry[] {
  return order.map((entry) => ({ group: resolveGroup(entry.group, collected, target, file) }));
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
    ...lifecycle.files.map((file): LayerEntry => ({
      type: "file",
      path: `cnb/lifecycle/${file.name}`,
      content: file.content,
      exactMode: file.mode,
    })),
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
