import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES, parseManifest, type ParsedManifest } from "../oci/manifest.js";
import { Platform } from "../oci/platform.js";
import { PolypackError } from "../errors/index.js";

/** One manifest of the graph, with the descriptor it is reached by. */
export interface PlannedManifest {
  descriptor: Descriptor;
  parsed: ParsedManifest;
  /** The platform from the parent index entry, when there is one. */
  platform?: Platform;
}

/** Everything a copy has to move, in the order it must be written. */
export interface CopyGraph {
  root: Descriptor;
  /** Manifests in dependency order: children before the indexes that name them, root last. */
  manifests: PlannedManifest[];
  /** Distinct blobs (configs and layers), each once. */
  blobs: Descriptor[];
}

/**
 * Walks the manifest graph under `root`, reading only manifests (never blobs). Nested indexes are
 * followed; each digest appears once. `filter` may drop children of the root index.
 */
export async function planGraph(
  source: ContentSource,
  root: Descriptor,
  options: { maxManifestBytes?: number } = {},
): Promise<CopyGraph> {
  const manifests: PlannedManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>();
  const maxBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;

  const visit = async (
    descriptor: Descriptor,
    platform: Platform | undefined,
    depth: number,
  ): Promise<void> => {
    if (seen.has(descriptor.digest)) return;
    seen.add(descriptor.digest);
    if (depth > 8) {
      throw new PolypackError("MANIFEST_INVALID", `${source.name}: indexes nested deeper than 8 levels`);
    }
    if (descriptor.size > maxBytes) {
      throw new PolypackError(
        "SIZE_EXCEEDED",
        `${source.name}: manifest ${descriptor.digest} is ${descriptor.size} bytes, over the ${maxBytes}-byte cap`,
      );
    }
    const bytes = await source.fetchManifest(descriptor);
    const parsed = parseManifest(bytes, descriptor.mediaType, `${source.name}@${descriptor.digest}`);
    if (parsed.kind === "index") {
      for (const child of parsed.index.manifests) {
        await visit(child, child.platform ? Platform.fromJSON(child.platform) : undefined, depth + 1);
      }
    } else {
      for (const blob of [parsed.manifest.config, ...parsed.manifest.layers]) {
        if (!blobs.has(blob.digest)) blobs.set(blob.digest, blob);
      }
    }
    manifests.push({ descriptor, parsed, ...(platform ? { platform } : {}) });
  };

  await visit(root, root.platform ? Platform.fromJSON(root.platform) : undefined, 0);
  return { root, manifests, blobs: [...blobs.values()] };
}
