import type { ReferrerReader, ReferrerStore } from "../image/referrers.js";
import type { ContentTarget, RegistryLocation } from "../oci/content.js";
import { MAX_MANIFEST_BYTES, parseManifest, type ImageIndex } from "../oci/manifest.js";
import { MediaType } from "../oci/media-types.js";
import { discard, readBody } from "../http/message.js";
import { locationName, pullScope, repositoryUrl } from "./endpoint.js";
import { errorFromResponse } from "./errors.js";
import { getManifest, headManifest } from "./manifests.js";
import type { Transport } from "./transport.js";

/**
 * The OCI 1.1 referrers API: the index of manifests whose `subject` is `digest`, or undefined when
 * the registry has no such API (it answers 404, as the distribution registry 2.x does, or 405, as
 * some registries and proxies do for a path they do not route), in which case referrers live
 * under the `sha256-<hex>` tag instead.
 */
export async function getReferrers(
  transport: Transport,
  location: RegistryLocation,
  digest: string,
): Promise<ImageIndex | undefined> {
  const request = {
    method: "GET" as const,
    url: repositoryUrl(location, `referrers/${digest}`),
    headers: { accept: MediaType.ociIndex },
    scopes: [pullScope(location)],
  };
  const response = await transport.send(request);
  if (response.status === 404 || response.status === 405) {
    await discard(response);
    return undefined;
  }
  const what = `referrers of ${locationName(location)}@${digest}`;
  if (response.status !== 200) throw await errorFromResponse(response, request, `reading ${what}`);
  const bytes = await readBody(response, MAX_MANIFEST_BYTES, what);
  const parsed = parseManifest(bytes, MediaType.ociIndex, what);
  // A 200 that is not an index is a registry serving something else at that path: no API.
  return parsed.kind === "index" ? parsed.index : undefined;
}

/**
 * A referrer store on a registry repository: the referrers API where the registry has it, else the
 * `sha256-<hex>` tag, read through the same client.
 */
export function registryReferrerStore(
  transport: Transport,
  location: RegistryLocation,
  target: ContentTarget,
): ReferrerStore {
  return { target, ...registryReferrerReader(transport, location) };
}

/** Reads a registry repository's referrers: the referrers API, else the `sha256-<hex>` tag. */
export function registryReferrerReader(transport: Transport, location: RegistryLocation): ReferrerReader {
  return {
    name: locationName(location),
    listReferrers: (subject) => getReferrers(transport, location, subject.digest),
    readTag: async (tag) => {
      if ((await headManifest(transport, location, tag)) === undefined) return undefined;
      return (await getManifest(transport, location, tag)).bytes;
    },
  };
}
