import { PolypackError } from "../errors/index.js";
import { configPlatform, type Index } from "../image/image.js";
import { MediaType } from "../oci/media-types.js";
import { Platform } from "../oci/platform.js";
import { describePlatform } from "./draft.js";
import { checkSameBuildpackOrBuilder, type LabelledChild } from "./same-module.js";

/**
 * The checks made before a tag moves to an index (and before a local index is kept): every entry
 * names an image, not an index (MANIFEST_NESTED_INDEX); its platform names an os and architecture
 * and agrees with its config's (MANIFEST_PLATFORM_MISMATCH: fields both name are equal, an entry
 * may add what the config leaves out); no platform is listed twice (MANIFEST_PLATFORM_DUPLICATE);
 * the images are one buildpack or builder (MANIFEST_CHILDREN_DIFFER); and a Docker manifest list
 * holds only Docker images and no annotations (MANIFEST_DOCKER_INCOMPATIBLE). Reads each child's
 * manifest and config, verified against their digests; never a layer.
 */
export async function checkIndex(index: Index, name: string): Promise<void> {
  const manifest = await index.index();
  const docker = manifest.mediaType === MediaType.dockerManifestList;
  if (docker && manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    throw dockerIncompatible(`${name} has index annotations, which a Docker manifest list cannot carry`);
  }
  const seen: { platform: Platform; digest: string }[] = [];
  const labelled: LabelledChild[] = [];
  for (const entry of await index.entries()) {
    const { descriptor } = entry;
    const where = `${name} entry ${descriptor.digest}`;
    const child = await entry.load();
    if (child.kind === "index") {
      throw new PolypackError(
        "MANIFEST_NESTED_INDEX",
        `${where} is an index; an index made here lists images only`,
      );
    }
    const listed = Platform.fromJSON(descriptor.platform ?? {});
    const config = Platform.fromJSON(await configPlatform(child));
    if (listed.os === "" || listed.architecture === "") {
      throw new PolypackError("MANIFEST_PLATFORM_MISMATCH", `${where} names no os and architecture`, {
        hint: "set them with manifest annotate INDEX DIGEST --os OS --arch ARCH",
      });
    }
    if (listed.os !== config.os || listed.architecture !== config.architecture || !listed.overlaps(config)) {
      throw new PolypackError(
        "MANIFEST_PLATFORM_MISMATCH",
        `${where} is listed for ${describePlatform(listed)}, but its config says ${describePlatform(config)}`,
      );
    }
    const twin = seen.find((s) => s.platform.equals(listed));
    if (twin) {
      throw new PolypackError(
        "MANIFEST_PLATFORM_DUPLICATE",
        `${name} lists both ${twin.digest} and ${descriptor.digest} for ${describePlatform(listed)}`,
      );
    }
    seen.push({ platform: listed, digest: descriptor.digest });
    if (docker) {
      if (descriptor.mediaType !== MediaType.dockerManifest) {
        throw dockerIncompatible(`${where} is an OCI image manifest (${descriptor.mediaType})`);
      }
      if (descriptor.annotations && Object.keys(descriptor.annotations).length > 0) {
        throw dockerIncompatible(`${where} has annotations, which a Docker manifest list cannot carry`);
      }
    }
    labelled.push({
      name: `${descriptor.digest} (${describePlatform(listed)})`,
      labels: (await child.config()).config?.Labels ?? {},
    });
  }
  checkSameBuildpackOrBuilder(labelled);
}

function dockerIncompatible(why: string): PolypackError {
  return new PolypackError("MANIFEST_DOCKER_INCOMPATIBLE", `--format docker: ${why}`);
}
