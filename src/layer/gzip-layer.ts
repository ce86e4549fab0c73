import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ThreadedHash } from "../util/threaded-hash.js";
import type { HeaderOptions } from "./header.js";
import type { MemberCache } from "./member-cache.js";
import { memberInputs } from "./member-inputs.js";
import { emptyMemberStats, gzipMembers, type MemberStats } from "./parallel-gzip.js";
import { isSmallLayer, planSegments } from "./segment-plan.js";
import { readAhead, teed } from "./stream-util.js";
import type { PreparedEntry } from "./tar-writer.js";

// Member inputs read ahead of the one being handled, so file reads overlap hashing and writing.
const READ_AHEAD = 1;

/** Everything writeGzipLayer needs, checked and with defaults filled in. */
export interface GzipLayerSettings {
  level: number;
  parallelism: number;
  segmentThreshold: number;
  memberSize: number;
  headerOptions: HeaderOptions;
  cache?: MemberCache | undefined;
  /** Receives the uncompressed tar as it is produced (see LayerOptions.tarTap). */
  tarTap?: Writable | undefined;
}

/** The digests and sizes of a written gzip layer, with how its members were made. */
export interface GzipLayer {
  digest: string;
  size: number;
  diffID: string;
  uncompressedSize: number;
  members: MemberStats;
}

/**
 * Writes prepared entries as a multi-member gzip layer into `sink` (see README.md), in one pass:
 * the tar is hashed for the diffID as it is produced, members are made in parallel (stored,
 * compressed, or copied from the cache after a check), and the blob is hashed on its way out. Both
 * digests are always computed from the bytes themselves; nothing a cache says is taken on trust.
 */
export async function writeGzipLayer(
  prepared: readonly PreparedEntry[],
  sink: Writable,
  settings: GzipLayerSettings,
): Promise<GzipLayer> {
  const segments = planSegments(prepared, settings.segmentThreshold);
  const diff = new ThreadedHash("sha256");
  const blob = new ThreadedHash("sha256");
  const stats = emptyMemberStats();
  try {
    const inputs = memberInputs(prepared, segments, settings);
    const tar = readAhead(teed(hashed(inputs, diff), settings.tarTap), READ_AHEAD);
    const { level, parallelism, cache } = settings;
    const probe = !isSmallLayer(prepared, settings.segmentThreshold);
    await pipeline(hashed(gzipMembers(tar, { level, parallelism, cache, probe }, stats), blob), sink);
    const [diffHex, blobHex] = await Promise.all([diff.digest(), blob.digest()]);
    return {
      digest: `sha256:${blobHex}`,
      size: blob.size,
      diffID: `sha256:${diffHex}`,
      uncompressedSize: diff.size,
      members: stats,
    };
  } finally {
    diff.cancel();
    blob.cancel();
  }
}

/** Passes chunks through, handing each to a hash on the way. */
async function* hashed(source: AsyncIterable<Buffer>, hash: ThreadedHash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    await hash.update(chunk);
    yield chunk;
  }
}
