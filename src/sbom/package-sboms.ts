import { checkDescriptor } from "../buildpack/descriptor.js";
import type { BuiltImage } from "../package/build.js";
import type { PackagePlan } from "../package/plan.js";
import { Platform } from "../oci/platform.js";
import { cycloneDxDocument } from "./cyclonedx.js";
import { sbomSubject } from "./model.js";
import type { PlatformSboms } from "./sbom.js";
import { spdxDocument } from "./spdx.js";

/**
 * The SBOMs of a package run, made from what it built without reading a layer again: each
 * target's image config (in memory) and the buildpack.toml written into its layer, which lists
 * exactly that target's dependencies. Layers a composite includes from other packages are not
 * opened here; `polypack sbom` on the result lists their buildpacks too.
 */
export async function packageSboms(
  plan: Pick<PackagePlan, "kind" | "targets">,
  images: readonly BuiltImage[],
  name: string,
): Promise<PlatformSboms[]> {
  const out: PlatformSboms[] = [];
  for (const image of images) {
    const target = plan.targets.find((t) => t.key === image.key);
    if (target === undefined) continue;
    const { descriptor } = checkDescriptor(target.buildpackToml, plan.kind);
    const config = await image.image.config();
    const platform = Platform.fromJSON(image.platform);
    const digest = image.manifest.digest;
    const subject = sbomSubject(config, descriptor ? [descriptor] : [], platform, digest, name);
    out.push({
      platform: subject.platform,
      digest,
      subject: { mediaType: image.manifest.mediaType, digest, size: image.manifest.size },
      cyclonedx: cycloneDxDocument(subject),
      spdx: spdxDocument(subject),
    });
  }
  return out;
}
