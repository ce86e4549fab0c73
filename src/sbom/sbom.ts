import { checkDescriptor } from "../buildpack/descriptor.js";
import type { BuildpackDescriptor } from "../buildpack/descriptor-types.js";
import { PolypackError } from "../errors/index.js";
import type { Artifact } from "../image/image.js";
import type { Descriptor } from "../oci/descriptor.js";
import { Platform } from "../oci/platform.js";
import { readImageTree, type LayerScans } from "../verify/image-tree.js";
import { platformImages } from "../verify/verify.js";
import { cycloneDxDocument } from "./cyclonedx.js";
import { sbomSubject } from "./model.js";
import { spdxDocument } from "./spdx.js";

/** The two SBOM documents of one platform's image. */
export interface PlatformSboms {
  platform: string;
  /** The platform manifest's digest. */
  digest: string;
  /** The platform manifest's descriptor: the subject the documents are attached to. */
  subject: Descriptor;
  cyclonedx: string;
  spdx: string;
}

/**
 * Makes a CycloneDX 1.6 and an SPDX 2.3 document for each platform of an image or index (or only
 * the `platforms` asked for): the buildpack or builder, the buildpacks and extensions in its
 * layers, a builder's lifecycle, and every dependency listed for that platform. The layers are
 * read for the descriptors they hold. Throws SBOM_FAILED for a layer that cannot be read.
 */
export async function makeSboms(
  artifact: Artifact,
  options: {
    name: string;
    platforms?: readonly Platform[];
    /**
     * The manifest the documents describe, when `artifact` is one image standing in for it with
     * only the layers that matter (a builder's own layers, without its build image's).
     */
    subject?: Descriptor;
    /** Scans of layers already read in this run, by digest (see readImageTree). */
    scans?: LayerScans;
  },
): Promise<PlatformSboms[]> {
  const out: PlatformSboms[] = [];
  const wanted = options.platforms ?? [];
  for (const { image, platform } of await platformImages(artifact, options.name, () => undefined)) {
    if (wanted.length > 0 && !wanted.some((w) => platform?.satisfies(w))) continue;
    const config = await image.config();
    const tree = await readImageTree(await image.layers(), options.scans ? { scans: options.scans } : {});
    const [problem] = tree.layerProblems;
    if (problem !== undefined) {
      throw new PolypackError(
        "SBOM_FAILED",
        `${options.name}: layer ${problem.layer} (${problem.digest}): ${problem.problem}`,
      );
    }
    const descriptors: BuildpackDescriptor[] = [];
    for (const [path, text] of [...tree.descriptors].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!tree.nodes.has(path)) continue;
      const kind = path.endsWith("/extension.toml") ? "extension" : "buildpack";
      const { descriptor, problems } = checkDescriptor(text, kind, { file: `/${path}` });
      if (descriptor === undefined) throw problems[0]!;
      descriptors.push(descriptor);
    }
    const effective = platform ?? Platform.fromJSON(config);
    const manifest = options.subject ?? (await image.descriptor());
    const digest = manifest.digest;
    const subject = sbomSubject(config, descriptors, effective, digest, options.name);
    out.push({
      platform: subject.platform,
      digest,
      subject: { mediaType: manifest.mediaType, digest, size: manifest.size },
      cyclonedx: cycloneDxDocument(subject),
      spdx: spdxDocument(subject),
    });
  }
  if (out.length === 0) {
    throw new PolypackError(
      "SBOM_FAILED",
      `${options.name} has no image for ${wanted.map((p) => p.toString()).join(", ") || "any platform"}`,
    );
  }
  return out;
}
