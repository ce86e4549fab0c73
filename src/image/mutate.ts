import { Digest } from "../oci/digest.js";
import type { Descriptor } from "../oci/descriptor.js";
import { goTime } from "../oci/go-json.js";
import {
  buildImageManifest,
  encodeJSON,
  type ContainerConfig,
  type ImageConfig,
  type ImageManifest,
} from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import type { PlatformJSON } from "../oci/platform.js";
import { bytesBlob, type Blob, type Layer } from "./blob.js";
import { encodeConfigFile, type HistoryEntry } from "./config-file.js";
import type { Image } from "./image.js";

/** A layer to append, with the history entry that describes it. */
export interface AddedLayer {
  layer: Layer;
  /** Its history entry (default: just `created`, as pack writes it). */
  history?: HistoryEntry;
}

/** What to change in an image; everything left out is inherited from the base. */
export interface ImageChanges {
  /** Layers appended after the base's, each with one history entry. */
  add?: readonly AddedLayer[];
  /** Labels set (a value) or removed (undefined); the base's others stay. */
  labels?: Readonly<Record<string, string | undefined>>;
  /** Environment variables set, `NAME` to value; the base's others stay, in their order. */
  env?: Readonly<Record<string, string>>;
  user?: string;
  workingDir?: string;
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  /** The config's `created`, and of every added layer's history entry unless it gives its own. */
  created?: Date;
  /** The platform fields of the config (architecture, os, variant, os.version, os.features). */
  platform?: PlatformJSON;
  /** Manifest annotations set (a value) or removed (undefined). */
  annotations?: Readonly<Record<string, string | undefined>>;
}

/** The computed parts of a mutated image. */
interface Computed {
  config: ImageConfig;
  configBlob: Blob;
  layers: Layer[];
  manifest: ImageManifest;
  bytes: Buffer;
  descriptor: Descriptor;
}

/**
 * An image made from `base` with `changes` applied: a value, computed when first asked. The config
 * keeps the base's runtime settings (Env, User, WorkingDir, Entrypoint, Cmd, labels) unless
 * changed; each added layer gets a diffID in rootfs and one history entry, so history stays
 * consistent with the layers. The base's layers are kept by reference: writing the image moves
 * only what the destination lacks.
 */
export function mutateImage(base: ImageBase, changes: ImageChanges): Image {
  let computed: Promise<Computed> | undefined;
  const compute = (): Promise<Computed> => (computed ??= computeImage(base, changes));
  return {
    kind: "image",
    descriptor: async () => (await compute()).descriptor,
    manifestBytes: async () => (await compute()).bytes,
    manifest: async () => (await compute()).manifest,
    configBlob: async () => (await compute()).configBlob,
    config: async () => (await compute()).config,
    layers: async () => (await compute()).layers,
    blobs: async () => {
      const { configBlob, layers } = await compute();
      return [configBlob, ...layers];
    },
  };
}

/** What a mutation reads of its base: any Image will do. */
export type ImageBase = Pick<Image, "config" | "layers" | "manifest">;

/** An image with no layers and an empty config for `platform`: the base of a buildpackage. */
export function emptyImage(platform: PlatformJSON): Image {
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    rootfs: { type: "layers", diff_ids: [] },
    config: {},
  };
  const manifest = buildImageManifest({ mediaType: MediaType.ociConfig, digest: "", size: 0 }, []);
  const base: ImageBase = {
    config: () => Promise.resolve(config),
    layers: () => Promise.resolve([]),
    manifest: () => Promise.resolve(manifest),
  };
  return mutateImage(base, { platform });
}

async function computeImage(base: ImageBase, changes: ImageChanges): Promise<Computed> {
  const [baseConfig, baseLayers, baseManifest] = await Promise.all([
    base.config(),
    base.layers(),
    base.manifest(),
  ]);
  const added = changes.add ?? [];
  const created = changes.created ? goTime(changes.created) : undefined;
  const runtime: ContainerConfig = { ...(baseConfig.config ?? {}) };
  if (changes.env) runtime.Env = mergedEnv(runtime.Env ?? [], changes.env);
  if (changes.user !== undefined) runtime.User = changes.user;
  if (changes.workingDir !== undefined) runtime.WorkingDir = changes.workingDir;
  if (changes.entrypoint) runtime.Entrypoint = [...changes.entrypoint];
  if (changes.cmd) runtime.Cmd = [...changes.cmd];
  if (changes.labels) runtime.Labels = edited(runtime.Labels ?? {}, changes.labels);
  const platform = changes.platform;
  const config: ImageConfig = {
    ...baseConfig,
    ...(platform
      ? {
          architecture: platform.architecture,
          os: platform.os,
          variant: platform.variant,
          "os.version": platform["os.version"],
          "os.features": platform["os.features"],
        }
      : {}),
    ...(created ? { created } : {}),
    history: [
      ...(baseConfig.history ?? []),
      ...added.map(({ history }) => history ?? (created ? { created } : {})),
    ],
    rootfs: {
      type: "layers",
      diff_ids: [...baseConfig.rootfs.diff_ids, ...added.map(({ layer }) => layer.diffID)],
    },
    config: runtime,
  };
  const docker = baseManifest.mediaType === MediaType.dockerManifest;
  const configBytes = encodeConfigFile(config);
  const configDescriptor: Descriptor = {
    mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
    digest: Digest.of(configBytes).toString(),
    size: configBytes.length,
  };
  const layers = [...baseLayers, ...added.map(({ layer }) => layer)];
  const annotations = changes.annotations
    ? edited(baseManifest.annotations ?? {}, changes.annotations)
    : baseManifest.annotations;
  const manifest = buildImageManifest(
    configDescriptor,
    layers.map((layer) => layer.descriptor),
    {
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
  );
  const bytes = encodeJSON(manifest);
  return {
    config,
    configBlob: bytesBlob(configDescriptor, configBytes),
    layers,
    manifest,
    bytes,
    descriptor: { mediaType: manifest.mediaType!, digest: Digest.of(bytes).toString(), size: bytes.length },
  };
}

/** `NAME=value` entries with `changes` applied: a changed name keeps its place, a new one goes last. */
function mergedEnv(env: readonly string[], changes: Readonly<Record<string, string>>): string[] {
  const pending = new Map(Object.entries(changes));
  const merged = env.map((entry) => {
    const name = entry.split("=", 1)[0]!;
    const value = pending.get(name);
    if (value === undefined) return entry;
    pending.delete(name);
    return `${name}=${value}`;
  });
  for (const [name, value] of pending) merged.push(`${name}=${value}`);
  return merged;
}

/** A map with keys set or (undefined) removed. */
function edited(
  map: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const result: Record<string, string> = { ...map };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete result[key];
    else result[key] = value;
  }
  return result;
}
