import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_CONFIG_BYTES, parseImageConfig, parseManifest, type ImageManifest } from "../oci/manifest.js";
import { Platform } from "../oci/platform.js";
import { PolypackError } from "../errors.js";
import { readCapped } from "../util/streams.js";

/** One image of an index, as inspect reports it. */
export interface InspectedChild {
  digest: string;
  mediaType: string;
  size: number;
  platform: string;
  annotations?: Record<string, string>;
}

/** One layer of an image. */
export interface InspectedLayer {
  digest: string;
  mediaType: string;
  size: number;
}

/** What `manifest inspect` reports. */
export type InspectResult = {
  name: string;
  digest: string;
  mediaType: string;
  size: number;
  raw: unknown;
} & (
  | { kind: "index"; manifests: InspectedChild[] }
  | {
      kind: "image";
      platform: string;
      config: InspectedLayer;
      layers: InspectedLayer[];
      labels: Record<string, string>;
      created?: string;
    }
);

/** Reads the manifest a source names and, for an image, its config; never reads layers. */
export async function inspect(source: ContentSource): Promise<InspectResult> {
  const root = await source.resolve();
  return inspectDescriptor(source, root);
}

/** Like `inspect`, for a given descriptor within the source. */
export async function inspectDescriptor(source: ContentSource, root: Descriptor): Promise<InspectResult> {
  const bytes = await source.fetchManifest(root);
  const parsed = parseManifest(bytes, root.mediaType, `${source.name}@${root.digest}`);
  const base = {
    name: source.name,
    digest: root.digest,
    mediaType: parsed.mediaType,
    size: bytes.length,
    raw: JSON.parse(bytes.toString("utf8")) as unknown,
  };
  if (parsed.kind === "index") {
    return {
      ...base,
      kind: "index",
      manifests: parsed.index.manifests.map((child) => ({
        digest: child.digest,
        mediaType: child.mediaType,
        size: child.size,
        platform: child.platform ? Platform.fromJSON(child.platform).toString() : "",
        ...(child.annotations ? { annotations: child.annotations } : {}),
      })),
    };
  }
  return { ...base, kind: "image", ...(await describeImage(source, parsed.manifest)) };
}

async function describeImage(source: ContentSource, manifest: ImageManifest) {
  const configBytes = await readCapped(() => source.openBlob(manifest.config), MAX_CONFIG_BYTES, {
    declaredSize: manifest.config.size,
    tooLarge: () =>
      new PolypackError(
        "SIZE_EXCEEDED",
        `${source.name}: image config is ${manifest.config.size} bytes, over the cap`,
      ),
  });
  const config = parseImageConfig(configBytes, `${source.name} config ${manifest.config.digest}`);
  const layer = (d: Descriptor): InspectedLayer => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
  });
  return {
    platform: Platform.fromJSON(config).toString(),
    config: layer(manifest.config),
    layers: manifest.layers.map(layer),
    labels: config.config?.Labels ?? {},
    ...(config.created ? { created: config.created } : {}),
  };
}
