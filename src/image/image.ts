import { PolypackError } from "../errors/index.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import {
  MAX_CONFIG_BYTES,
  parseImageConfig,
  parseManifest,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "../oci/manifest.js";
import { Platform, type PlatformJSON } from "../oci/platform.js";
import { readCapped } from "../util/streams.js";
import { sourceBlob, sourceLayer, type Blob, type Layer } from "./blob.js";

/**
 * An image: a manifest, its config and its layers. Every accessor is lazy and read-only; an image
 * read from a store fetches its manifest and config once, when first asked, and its layers only
 * when a writer opens them.
 */
export interface Image {
  readonly kind: "image";
  /** The manifest's descriptor (media type, digest, size); no platform. */
  descriptor(): Promise<Descriptor>;
  /** The manifest's bytes, exactly as stored (their digest is the image's). */
  manifestBytes(): Promise<Buffer>;
  manifest(): Promise<ImageManifest>;
  /** The config blob. */
  configBlob(): Promise<Blob>;
  config(): Promise<ImageConfig>;
  /** The layers in order, each with its diffID (from the config). */
  layers(): Promise<Layer[]>;
  /**
   * Every blob the image needs, config first, then the layers: what a writer moves. Unlike
   * `layers`, this reads no config, so it serves any manifest (an artifact's config need not be
   * an image config).
   */
  blobs(): Promise<Blob[]>;
}

/** One entry of an index: its descriptor (platform and annotations included) and what it names. */
export interface IndexEntry {
  readonly descriptor: Descriptor;
  /** The image or index the entry names, read when asked for. */
  load(): Promise<Image | Index>;
}

/** An image index (a multi-arch image): entries naming images, or other indexes. */
export interface Index {
  readonly kind: "index";
  descriptor(): Promise<Descriptor>;
  manifestBytes(): Promise<Buffer>;
  index(): Promise<ImageIndex>;
  entries(): Promise<IndexEntry[]>;
}

/** An image or an index: what a reference, a layout ref or a `.cnb` names. */
export type Artifact = Image | Index;

/**
 * The image or index that `descriptor` names in `source` (by default the one the source was
 * opened for), read lazily. The manifest is fetched here, since its kind decides the value.
 */
export async function readArtifact(source: ContentSource, descriptor?: Descriptor): Promise<Artifact> {
  const root = descriptor ?? (await source.resolve());
  const bytes = await source.fetchManifest(root);
  const parsed = parseManifest(bytes, root.mediaType, `${source.name}@${root.digest}`);
  const plain: Descriptor = { mediaType: parsed.mediaType, digest: root.digest, size: root.size };
  return parsed.kind === "index"
    ? new SourceIndex(source, plain, bytes, parsed.index)
    : new SourceImage(source, plain, bytes, parsed.manifest);
}

/** An image of a content source. */
class SourceImage implements Image {
  readonly kind = "image";
  private configRead: Promise<ImageConfig> | undefined;

  constructor(
    private readonly source: ContentSource,
    private readonly plain: Descriptor,
    private readonly bytes: Buffer,
    private readonly parsed: ImageManifest,
  ) {}

  descriptor(): Promise<Descriptor> {
    return Promise.resolve(this.plain);
  }

  manifestBytes(): Promise<Buffer> {
    return Promise.resolve(this.bytes);
  }

  manifest(): Promise<ImageManifest> {
    return Promise.resolve(this.parsed);
  }

  configBlob(): Promise<Blob> {
    return Promise.resolve(sourceBlob(this.source, this.parsed.config));
  }

  blobs(): Promise<Blob[]> {
    const descriptors = [this.parsed.config, ...this.parsed.layers];
    return Promise.resolve(descriptors.map((descriptor) => sourceBlob(this.source, descriptor)));
  }

  config(): Promise<ImageConfig> {
    this.configRead ??= (async () => {
      const descriptor = this.parsed.config;
      const where = `${this.source.name}@${this.plain.digest} config`;
      const bytes = await readCapped(() => this.source.openBlob(descriptor), MAX_CONFIG_BYTES, {
        declaredSize: descriptor.size,
        tooLarge: (size) =>
          new PolypackError(
            "SIZE_EXCEEDED",
            `${where} is ${size === undefined ? "" : `${size} bytes, `}over the ${MAX_CONFIG_BYTES}-byte cap`,
          ),
      });
      return parseImageConfig(bytes, where);
    })();
    return this.configRead;
  }

  async layers(): Promise<Layer[]> {
    const config = await this.config();
    const diffIDs = config.rootfs?.diff_ids;
    const where = `${this.source.name}@${this.plain.digest}`;
    if (!Array.isArray(diffIDs) || diffIDs.length !== this.parsed.layers.length) {
      throw new PolypackError(
        "CONFIG_INVALID",
        `${where}: the config lists ${Array.isArray(diffIDs) ? diffIDs.length : "no"} diff_ids for ${this.parsed.layers.length} layers`,
      );
    }
    return this.parsed.layers.map((layer, i) => sourceLayer(this.source, layer, String(diffIDs[i])));
  }
}

/** An index of a content source. */
class SourceIndex implements Index {
  readonly kind = "index";

  constructor(
    private readonly source: ContentSource,
    private readonly plain: Descriptor,
    private readonly bytes: Buffer,
    private readonly parsed: ImageIndex,
  ) {}

  descriptor(): Promise<Descriptor> {
    return Promise.resolve(this.plain);
  }

  manifestBytes(): Promise<Buffer> {
    return Promise.resolve(this.bytes);
  }

  index(): Promise<ImageIndex> {
    return Promise.resolve(this.parsed);
  }

  entries(): Promise<IndexEntry[]> {
    return Promise.resolve(
      this.parsed.manifests.map((descriptor) => ({
        descriptor,
        load: () => readArtifact(this.source, descriptor),
      })),
    );
  }
}

/**
 * The platform an image's config declares, as an index entry writes it (go-containerregistry's
 * order: architecture, os, os.version, os.features, variant), empty fields left out.
 */
export async function configPlatform(image: Image): Promise<PlatformJSON> {
  const config = await image.config();
  const features = config["os.features"];
  return {
    architecture: config.architecture,
    os: config.os,
    ...(config["os.version"] ? { "os.version": config["os.version"] } : {}),
    ...(Array.isArray(features) && features.length > 0 ? { "os.features": features.map(String) } : {}),
    ...(config.variant ? { variant: config.variant } : {}),
  };
}

/**
 * The image an index holds for `wanted` (nested indexes followed): the first entry whose platform
 * satisfies it (go-containerregistry's rule: empty fields of `wanted` match anything), or, for an
 * entry without a platform, whose image config does. Undefined when none does.
 */
export async function imageFor(index: Index, wanted: Platform): Promise<Image | undefined> {
  for (const entry of await index.entries()) {
    const declared = entry.descriptor.platform;
    if (declared && !Platform.fromJSON(declared).satisfies(wanted)) continue;
    const child = await entry.load();
    if (child.kind === "index") {
      const nested = await imageFor(child, wanted);
      if (nested) return nested;
      continue;
    }
    if (declared || Platform.fromJSON(await configPlatform(child)).satisfies(wanted)) return child;
  }
  return undefined;
}

/**
 * The image for `wanted` of whatever a reference names: an index's child (see imageFor), or a single
 * image when its config's platform overlaps `wanted`; undefined when there is none.
 */
export async function artifactImageFor(artifact: Artifact, wanted: Platform): Promise<Image | undefined> {
  if (artifact.kind === "index") return imageFor(artifact, wanted);
  return Platform.fromJSON(await configPlatform(artifact)).overlaps(wanted) ? artifact : undefined;
}
