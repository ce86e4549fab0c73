import { readArtifact, type Artifact } from "../image/image.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Platform } from "../oci/platform.js";

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
  return describe(source.name, await readArtifact(source));
}

/** What inspect reports of an image or index read with the image model. */
export async function describe(name: string, artifact: Artifact): Promise<InspectResult> {
  const descriptor = await artifact.descriptor();
  const bytes = await artifact.manifestBytes();
  const base = {
    name,
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: bytes.length,
    raw: JSON.parse(bytes.toString("utf8")) as unknown,
  };
  if (artifact.kind === "index") {
    return {
      ...base,
      kind: "index",
      manifests: (await artifact.index()).manifests.map((child) => ({
        digest: child.digest,
        mediaType: child.mediaType,
        size: child.size,
        platform: child.platform ? Platform.fromJSON(child.platform).toString() : "",
        ...(child.annotations ? { annotations: child.annotations } : {}),
      })),
    };
  }
  const [manifest, config] = await Promise.all([artifact.manifest(), artifact.config()]);
  const entry = (d: Descriptor): InspectedLayer => ({
    digest: d.digest,
    mediaType: d.mediaType,
    size: d.size,
  });
  return {
    ...base,
    kind: "image",
    platform: Platform.fromJSON(config).toString(),
    config: entry(manifest.config),
    layers: manifest.layers.map(entry),
    labels: config.config?.Labels ?? {},
    ...(config.created ? { created: config.created } : {}),
  };
}
