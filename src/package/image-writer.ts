import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import type { LayerEntry } from "../layer/entry.js";
import { writeLayerFile, type WrittenLayer } from "../layer/write-layer.js";
import type { OciLayout } from "../layout/oci-layout.js";
import type { Descriptor } from "../oci/descriptor.js";
import { buildImageIndex, buildImageManifest, encodeJSON } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import type { PlatformJSON } from "../oci/platform.js";
import { encodeImageConfig } from "./image-config.js";

/** A layer already stored in the layout: its blob and the digest of its uncompressed tar. */
export interface StoredLayer {
  descriptor: Descriptor;
  diffID: string;
}

/** One image to store: its platform, layers in order and labels. */
export interface ImageSpec {
  platform: PlatformJSON;
  layers: readonly StoredLayer[];
  labels: Readonly<Record<string, string>>;
}

/** Options of storeLayer. */
export interface StoreLayerOptions {
  /** The member cache directory (see src/layer/README.md). */
  memberCache?: string;
}

/**
 * Writes a layer (pack's choices: absolute names, gzip at the default level, OCI media type)
 * straight into the layout's blob store: a temporary file in the layout, renamed to its digest.
 */
export async function storeLayer(
  layout: OciLayout,
  entries: Iterable<LayerEntry>,
  options: StoreLayerOptions = {},
): Promise<WrittenLayer> {
  const temp = join(layout.path, `.layer-${randomBytes(6).toString("hex")}.tmp`);
  try {
    const written = await writeLayerFile(entries, temp, {
      absoluteNames: true,
      mediaTypes: "oci",
      ...(options.memberCache ? { memberCache: options.memberCache } : {}),
    });
    const blob = layout.blobPath(written.descriptor.digest);
    await mkdir(dirname(blob), { recursive: true });
    await rename(temp, blob);
    return written;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Stores an image's config and manifest; returns the manifest's descriptor with its platform. */
export async function storeImage(layout: OciLayout, spec: ImageSpec, created: Date): Promise<Descriptor> {
  const config = encodeImageConfig(
    spec.platform,
    spec.layers.map((layer) => layer.diffID),
    spec.labels,
    created,
  );
  const configDescriptor = await layout.putBytesAs(MediaType.ociConfig, config);
  const manifest = buildImageManifest(
    configDescriptor,
    spec.layers.map((layer) => layer.descriptor),
  );
  const descriptor = await layout.putBytesAs(MediaType.ociManifest, encodeJSON(manifest));
  return { ...descriptor, platform: spec.platform };
}

/** Stores an OCI image index over the given manifests (each with its platform). */
export async function storeIndex(layout: OciLayout, manifests: readonly Descriptor[]): Promise<Descriptor> {
  return layout.putBytesAs(MediaType.ociIndex, encodeJSON(buildImageIndex([...manifests])));
}
