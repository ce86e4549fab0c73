import { PolypackError } from "../errors/index.js";
import type { ContentSource } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.js";
import { isIndexMediaType, isManifestMediaType } from "../oci/media-types.js";
import { readArtifact, type Artifact } from "./image.js";
import {
  indexReferrers,
  listedReferrers,
  referrerEntry,
  type ReferrerReader,
  type ReferrerStore,
} from "./referrers.js";
import { writeMissing, type WriteEvent } from "./write.js";

/** Where a copy reads referrers (beside its source) and where it writes them (beside its target). */
export interface ReferrerRoutes {
  from: ReferrerReader;
  to: ReferrerStore;
}

/** Options of copyReferrers. */
export interface CopyReferrersOptions {
  concurrency?: number;
  onEvent?: (event: WriteEvent) => void;
}

// Referrers of referrers (a signature of an SBOM) are followed this deep, and no deeper.
const MAX_DEPTH = 3;
const MAX_NESTING = 8;

/**
 * Copies the OCI referrers of every manifest of `root` (the root and each manifest an index
 * names, nested indexes included), and theirs in turn, from beside `source` into `routes.to`:
 * each referrer manifest with its blobs (mounted on one registry, present ones checked, not
 * assumed), then the subject's referrers are indexed at once (one tag-scheme update per subject).
 * A listed manifest that does not name the subject is left behind. Returns how many referrers
 * were copied.
 */
export async function copyReferrers(
  root: Artifact,
  source: ContentSource,
  routes: ReferrerRoutes,
  options: CopyReferrersOptions = {},
): Promise<number> {
  let copied = 0;
  const seen = new Set<string>();
  // Each referrer is a write of its own; its "plan" would print a line per small document.
  const forward = options.onEvent;
  const write = {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(forward
      ? {
          onEvent: (event: WriteEvent) => {
            if (event.type !== "plan") forward(event);
          },
        }
      : {}),
  };
  const copyOf = async (subject: Descriptor, depth: number): Promise<void> => {
    if (seen.has(subject.digest)) return;
    seen.add(subject.digest);
    const entries: Descriptor[] = [];
    for (const listed of await listedReferrers(routes.from, subject)) {
      if (!isManifestMediaType(listed.mediaType)) continue;
      if (listed.size > MAX_MANIFEST_BYTES) {
        throw new PolypackError(
          "SIZE_EXCEEDED",
          `referrer ${listed.digest} of ${subject.digest} in ${routes.from.name} is ${listed.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte cap`,
        );
      }
      const descriptor = { mediaType: listed.mediaType, digest: listed.digest, size: listed.size };
      // Read by digest and checked against it: the list is the registry's word, the bytes are not.
      const referrer = await readArtifact(source, descriptor);
      const manifest = referrer.kind === "image" ? await referrer.manifest() : await referrer.index();
      if (manifest.subject?.digest !== subject.digest) continue;
      await writeMissing(referrer, routes.to.target, write);
      entries.push(referrerEntry(descriptor, manifest));
      copied++;
      if (depth < MAX_DEPTH) await copyOf(descriptor, depth + 1);
    }
    await indexReferrers(routes.to, subject, entries);
  };
  for (const subject of await manifestsOf(root)) await copyOf(subject, 1);
  return copied;
}

// The descriptors of an artifact's manifests: the root first, then what its indexes name.
async function manifestsOf(root: Artifact): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  const visit = async (artifact: Artifact, depth: number): Promise<void> => {
    const descriptor = await artifact.descriptor();
    found.push(descriptor);
    if (artifact.kind !== "index" || depth >= MAX_NESTING) return;
    for (const entry of await artifact.entries()) {
      const plain = {
        mediaType: entry.descriptor.mediaType,
        digest: entry.descriptor.digest,
        size: entry.descriptor.size,
      };
      if (isIndexMediaType(entry.descriptor.mediaType)) await visit(await entry.load(), depth + 1);
      else found.push(plain);
    }
  };
  await visit(root, 0);
  return found;
}
