import { createCipheriv, createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { LayerEntry } from "../../src/layer/entry.js";
import { putLayer } from "../../src/layer/put-layer.js";
import type { WrittenLayer } from "../../src/layer/write-layer.js";
import type { ContentTarget } from "../../src/oci/content.js";
import { descriptorFor, type Descriptor } from "../../src/oci/descriptor.js";
import {
  buildImageIndex,
  buildImageManifest,
  encodeJSON,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import { Platform } from "../../src/oci/platform.js";

/** Options for a random test image. */
export interface RandomImageOptions {
  /** `os/arch[/variant]` or a Platform (default linux/amd64). */
  platform?: string | Platform;
  /** One layer per size, each holding one file of that many pseudo-random bytes (default [1024]). */
  layerSizes?: readonly number[];
  /** Makes the content reproducible; different seeds give different blobs (default "polypack"). */
  seed?: string;
  /** Names the image in the target after writing it. */
  tag?: string;
  /** OCI (default) or Docker media types. */
  mediaTypes?: "oci" | "docker";
  /** gzip level of the layers (default 6). */
  compressionLevel?: number;
  /** Labels on the image config. */
  labels?: Record<string, string>;
}

/** What writeRandomImage wrote. */
export interface RandomImage {
  /** Descriptor of the manifest, with the platform, as an index entry would list it. */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  layers: WrittenLayer[];
  platform: Platform;
}

/** What writeRandomIndex wrote. */
export interface RandomIndex {
  descriptor: Descriptor;
  index: ImageIndex;
  images: RandomImage[];
}

/**
 * A stream of `size` bytes that look random but depend only on `seed` (AES-CTR over zeros, fast and
 * never held in memory).
 */
export function pseudoRandomStream(seed: string, size: number): Readable {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  let remaining = size;
  return new Readable({
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const length = Math.min(remaining, zeros.length);
      remaining -= length;
      this.push(cipher.update(zeros.subarray(0, length)));
    },
  });
}

/** The layer entries writeRandomImage uses for layer `i`: `random/<platform>-<i>.bin`. */
export function randomLayerEntries(seed: string, platform: Platform, i: number, size: number): LayerEntry[] {
  const name = `random/${platform.toString().replaceAll("/", "-")}-${i}.bin`;
  return [
    { path: "random", type: "directory" },
    {
      path: name,
      type: "file",
      size,
      open: () => pseudoRandomStream(`${seed}/${platform.toString()}/${i}`, size),
    },
  ];
}

/** Writes a single-platform image with pseudo-random layers into a target (and tags it if asked). */
export async function writeRandomImage(
  target: ContentTarget,
  options: RandomImageOptions = {},
): Promise<RandomImage> {
  const platform =
    typeof options.platform === "string"
      ? Platform.parse(options.platform)
      : (options.platform ?? Platform.parse("linux/amd64"));
  const seed = options.seed ?? "polypack";
  const docker = options.mediaTypes === "docker";
  const layers: WrittenLayer[] = [];
  for (const [i, size] of (options.layerSizes ?? [1024]).entries()) {
    const layerOptions = {
      mediaTypes: options.mediaTypes ?? "oci",
      compressionLevel: options.compressionLevel ?? 6,
    };
    layers.push(await putLayer(target, randomLayerEntries(seed, platform, i, size), layerOptions));
  }
  const config: ImageConfig = {
    created: "1980-01-01T00:00:01Z",
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: options.labels ? { Labels: options.labels } : {},
    rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffID) },
  };
  const configBytes = encodeJSON(config);
  const configDescriptor = descriptorFor(docker ? MediaType.dockerConfig : MediaType.ociConfig, configBytes);
  await target.putBlob(configDescriptor, () => Promise.resolve(Readable.from([configBytes])));
  const manifest = buildImageManifest(
    configDescriptor,
    layers.map((layer) => layer.descriptor),
    { mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest },
  );
  const manifestBytes = encodeJSON(manifest);
  const descriptor = descriptorFor(manifest.mediaType!, manifestBytes);
  await target.putManifest(descriptor, manifestBytes);
  if (options.tag !== undefined) await target.tag(descriptor, [options.tag]);
  return { descriptor: { ...descriptor, platform: platform.toJSON() }, manifest, config, layers, platform };
}

/** Writes one random image per platform and an index over them (tagged if asked). */
export async function writeRandomIndex(
  target: ContentTarget,
  options: Omit<RandomImageOptions, "platform"> & { platforms: readonly string[] },
): Promise<RandomIndex> {
  const images: RandomImage[] = [];
  for (const platform of options.platforms) {
    images.push(await writeRandomImage(target, { ...options, platform, tag: undefined }));
  }
  const docker = options.mediaTypes === "docker";
  const index = buildImageIndex(
    images.map((image) => image.descriptor),
    { mediaType: docker ? MediaType.dockerManifestList : MediaType.ociIndex },
  );
  const bytes = encodeJSON(index);
  const descriptor = descriptorFor(index.mediaType!, bytes);
  await target.putManifest(descriptor, bytes);
  if (options.tag !== undefined) await target.tag(descriptor, [options.tag]);
  return { descriptor, index, images };
}
