/** Media types of the OCI image spec and of Docker's v2 schema 2, which registries and pack still use. */
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
} as const;

/** Media types that denote an index (manifest list). */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
/** Media types that denote a single-platform image manifest. */
export const IMAGE_MEDIA_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
/** Every manifest media type polypack reads, in the order sent in Accept headers. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES];

/** Whether a media type is an index or manifest list. */
export function isIndexMediaType(mediaType: string | undefined): mediaType is string {
  return mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType);
}

/** Whether a media type is a single image manifest. */
export function isImageMediaType(mediaType: string | undefined): mediaType is string {
  return mediaType !== undefined && IMAGE_MEDIA_TYPES.includes(mediaType);
}

/** Whether a media type is any kind of manifest (index or image). */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return isIndexMediaType(mediaType) || isImageMediaType(mediaType);
}
