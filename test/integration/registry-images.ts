import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { descriptorFor, type Descriptor } from "../../src/oci/descriptor.js";
import { buildImageIndex, buildImageManifest, encodeJSON } from "../../src/oci/manifest.js";
import { MediaType } from "../../src/oci/media-types.js";
import type { PlatformJSON } from "../../src/oci/platform.js";
import type { ContentTarget, PutBlobResult } from "../../src/oci/content.js";

/** Bytes and the descriptor that names them. */
export interface TestBlob {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** A small single-platform image built in memory. */
export interface TestImage {
  config: TestBlob;
  layers: TestBlob[];
  manifest: TestBlob;
}

/** A stream factory over bytes, as ContentTarget.putBlob expects. */
export function opener(bytes: Buffer): () => Promise<Readable> {
  return () => Promise.resolve(Readable.from([bytes]));
}

/** An uncompressed tar holding one file of random content. */
async function tarOf(name: string, content: Buffer): Promise<Buffer> {
  const archive = pack();
  archive.entry({ name, mode: 0o644, mtime: new Date(315532801000) }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A gzip layer with `size` random bytes in one file; random so every test run pushes new blobs. */
export async function makeLayer(size = 3000, docker = false): Promise<{ blob: TestBlob; diffId: string }> {
  const tar = await tarOf(`file-${randomBytes(4).toString("hex")}.bin`, randomBytes(size));
  const bytes = gzipSync(tar);
  const mediaType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
  return {
    blob: { descriptor: descriptorFor(mediaType, bytes), bytes },
    diffId: `sha256:${createHash("sha256").update(tar).digest("hex")}`,
  };
}

/** An image with two small layers for a platform, in OCI or Docker media types. */
export async function makeImage(
  platform: PlatformJSON = { os: "linux", architecture: "amd64" },
  docker = false,
): Promise<TestImage> {
  const layers = [await makeLayer(2000, docker), await makeLayer(5000, docker)];
  const configBytes = encodeJSON({
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Labels: { "test.nonce": randomBytes(8).toString("hex") } },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
  });
  const config = {
    descriptor: descriptorFor(docker ? MediaType.dockerConfig : MediaType.ociConfig, configBytes),
    bytes: configBytes,
  };
  const manifestMediaType = docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifestBytes = encodeJSON(
    buildImageManifest(
      config.descriptor,
      layers.map((l) => l.blob.descriptor),
      { mediaType: manifestMediaType },
    ),
  );
  const manifest = {
    descriptor: { ...descriptorFor(manifestMediaType, manifestBytes), platform },
    bytes: manifestBytes,
  };
  return { config, layers: layers.map((l) => l.blob), manifest };
}

/** An index (or Docker manifest list) over the given images. */
export function makeIndex(images: readonly TestImage[], docker = false): TestBlob {
  const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const bytes = encodeJSON(
    buildImageIndex(
      images.map((i) => i.manifest.descriptor),
      { mediaType },
    ),
  );
  return { descriptor: descriptorFor(mediaType, bytes), bytes };
}

/** Every blob of an image, config first. */
export function blobsOf(image: TestImage): TestBlob[] {
  return [image.config, ...image.layers];
}

/** Pushes an image the way copy does: blobs, then the manifest by digest (no tag). */
export async function pushImage(target: ContentTarget, image: TestImage): Promise<PutBlobResult[]> {
  const results = await Promise.all(blobsOf(image).map((b) => target.putBlob(b.descriptor, opener(b.bytes))));
  await target.putManifest(image.manifest.descriptor, image.manifest.bytes);
  return results;
}

/** Pushes a multi-arch index in dependency order: every image, the index by digest, the tags last. */
export async function pushIndex(
  target: ContentTarget,
  images: readonly TestImage[],
  index: TestBlob,
  tags: readonly string[],
): Promise<void> {
  for (const image of images) await pushImage(target, image);
  await target.putManifest(index.descriptor, index.bytes);
  await target.tag(index.descriptor, tags);
}
