import { PolypackError } from "../errors/index.js";
import type { Descriptor } from "../oci/descriptor.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { refNameOf, withoutRefName } from "./layout-files.js";

/**
 * Picks the image or index a user means in a layout's index.json. With a ref: the entry with that
 * ref name. Without: the only entry, else the only index entry (a multi-arch `.cnb` also lists one
 * platform's manifest for pack), else an error listing the refs to choose from.
 */
export function selectRoot(
  manifests: readonly Descriptor[],
  ref: string | undefined,
  where: string,
): Descriptor {
  if (manifests.length === 0) {
    throw new PolypackError("IMAGE_NOT_FOUND", `${where} holds no images`);
  }
  if (ref !== undefined) {
    const named = manifests.filter((entry) => refNameOf(entry) === ref);
    if (named.length === 0) {
      throw new PolypackError("REF_NOT_FOUND", `${where} has no image named ${JSON.stringify(ref)}`, {
        hint: refsHint(manifests),
      });
    }
    if (new Set(named.map((entry) => entry.digest)).size > 1) {
      throw new PolypackError("REF_AMBIGUOUS", `${where} names different images ${JSON.stringify(ref)}`);
    }
    return withoutRefName(named[0]!);
  }
  // Referrers (SBOMs) kept under the tag scheme's `sha256-<hex>` refs are not what a user means.
  const images = manifests.filter((entry) => !REFERRERS_TAG.test(refNameOf(entry) ?? ""));
  if (images.length === 1) return withoutRefName(images[0]!);
  const indexes = images.filter((entry) => isIndexMediaType(entry.mediaType));
  if (indexes.length === 1) return withoutRefName(indexes[0]!);
  throw new PolypackError("REF_REQUIRED", `${where} holds ${manifests.length} images; say which one`, {
    hint: refsHint(manifests),
  });
}

const REFERRERS_TAG = /^sha256-[0-9a-f]{64}$/;

function refsHint(manifests: readonly Descriptor[]): string {
  const refs = [...new Set(manifests.map(refNameOf).filter((ref): ref is string => ref !== undefined))];
  if (refs.length === 0) return "the layout names none of its images (no org.opencontainers.image.ref.name)";
  return `add :REF to the path; refs present: ${refs.join(", ")}`;
}
