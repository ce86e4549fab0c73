import { MediaType } from "../../src/oci/media-types.js";
import type { Descriptor } from "../../src/oci/descriptor.js";

/**
 * pack's rule for finding the buildpackage in a `.cnb` (pkg/buildpack/oci_layout_package.go): the
 * first index.json entry whose media type is a Docker v2 or OCI image manifest; indexes are skipped.
 */
export function packFirstManifest(manifests: readonly Descriptor[]): Descriptor | undefined {
  return manifests.find(
    (entry) => entry.mediaType === MediaType.dockerManifest || entry.mediaType === MediaType.ociManifest,
  );
}
