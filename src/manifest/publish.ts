import { readArtifact, type Artifact, type Index } from "../image/image.js";
import { indexOf } from "../image/index-edit.js";
import { write, type WriteEvent, type WriteReport } from "../image/write.js";
import type { ContentSource, ContentTarget } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { checkIndex } from "./check.js";
import { formatOf, type IndexDraft } from "./draft.js";

/** Opens where a child lives (a StoredIndex location) so that the child `digest` can be read. */
export type LocationOpener = (location: string, digest: string) => Promise<ContentSource>;

/**
 * The index a draft describes, as the image model's value: entries load their image from
 * `known` (images already read this run) or else from their location, each once, its manifest
 * checked against the entry's digest. The bytes are those of `draft.index` re-encoded in the
 * canonical order, so the digest is the one a push writes.
 */
export function draftIndex(
  draft: IndexDraft,
  open: LocationOpener,
  known?: ReadonlyMap<string, Artifact>,
): Index {
  const loaded = new Map<string, Promise<Artifact>>();
  const load = (descriptor: Descriptor): Promise<Artifact> => {
    const { mediaType, digest, size } = descriptor;
    let artifact = loaded.get(digest);
    if (artifact === undefined) {
      const given = known?.get(digest);
      artifact = given
        ? Promise.resolve(given)
        : (async () => {
            const location = draft.locations[digest] ?? "";
            return readArtifact(await open(location, digest), { mediaType, digest, size });
          })();
      loaded.set(digest, artifact);
    }
    return artifact;
  };
  return indexOf(() =>
    Promise.resolve({
      entries: draft.index.manifests.map((descriptor) => ({ descriptor, load: () => load(descriptor) })),
      format: formatOf(draft.index),
      annotations: draft.index.annotations ?? {},
    }),
  );
}

/**
 * Checks an index's children (see checkIndex) and writes it with the image model's `write`: every
 * child and blob the target lacks is copied, or mounted from another repository of the same
 * registry, each blob once; children by digest, the index next, the tags last. When a check
 * fails the target is aborted and no tag moves.
 */
export async function publishIndex(
  index: Index,
  name: string,
  target: ContentTarget,
  tags: readonly string[],
  onEvent?: (event: WriteEvent) => void,
): Promise<WriteReport> {
  try {
    await checkIndex(index, name);
  } catch (error) {
    await target.abort?.();
    throw error;
  }
  return write(index, target, { tags, ...(onEvent ? { onEvent } : {}) });
}
