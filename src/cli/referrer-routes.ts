import type { Endpoint } from "../endpoints/endpoint.js";
import type { ReferrerRoutes } from "../image/copy-referrers.js";
import type { ReferrerReader } from "../image/referrers.js";
import type { ContentSource, ContentTarget } from "../oci/content.js";

/**
 * Where a copy from `source` (opened for `endpoint`) into `target` reads and writes referrers, or
 * undefined when it carries none: only a registry target takes them (in a layout or `.cnb` the tag
 * scheme's refs would trip tools that read it without a ref), and a `.cnb` source keeps none.
 * Each side's referrers go through that side's own client, so credentials stay where they belong.
 */
export async function referrerRoutes(
  endpoint: Endpoint,
  source: ContentSource,
  target: ContentTarget,
): Promise<ReferrerRoutes | undefined> {
  const { RegistryTarget } = await import("../registry/target.js");
  const { registryReferrerReader, registryReferrerStore } = await import("../registry/referrers.js");
  if (!(target instanceof RegistryTarget)) return undefined;
  let from: ReferrerReader | undefined;
  if (endpoint.kind === "layout") {
    const { layoutReferrerReader } = await import("../image/referrers.js");
    from = layoutReferrerReader(endpoint.path);
  } else if (endpoint.kind === "registry") {
    const { RegistrySource } = await import("../registry/source.js");
    if (source instanceof RegistrySource)
      from = registryReferrerReader(source.client.transport, source.location);
  }
  if (from === undefined) return undefined;
  return { from, to: registryReferrerStore(target.client.transport, target.location, target) };
}
