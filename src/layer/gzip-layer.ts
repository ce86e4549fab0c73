import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { PolypackError } from "../errors.js";
import type { HeaderOptions } from "./header.js";
import { encodeRecord, layerSignature, parseRecord, type LayerRecord } from "./layer-record.js";
import type { CachedMember, MemberCache } from "./member-cache.js";
import { memberInputs } from "./member-inputs.js";
import {
  cacheKey,
  emptyMemberStats,
  gzipMembers,
  type MemberLog,
  type MemberStats,
} from "./parallel-gzip.js";
import { planSegments } from "./segment-plan.js";
import type { PreparedEntry } from "./tar-writer.js";
import { readAhead } from "./stream-util.js";
import { ThreadedHash } from "./threaded-hash.js";

const gunzipAsync = promisify(gunzip);
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
 * Writes prepared entries as a multi-member gzip layer into `sink` (see README.md). Through a
 * cache, a layer recorded before is copied member by member as long as its members keep their
 * keys, without hashing; any other layer (or the rest of one that turns out to differ) is
 * compressed and hashed in one pass, and recorded for next time.
 */
export async function writeGzipLayer(
  prepared: readonly PreparedEntry[],
  sink: Writable,
  settings: GzipLayerSettings,
): Promise<GzipLayer> {
  const segments = planSegments(prepared, settings.segmentThreshold);
  const inputs = memberInputs(prepared, segments, settings.headerOptions, settings.memberSize);
  const write = new LayerWrite(settings);
  try {
    const cache = settings.cache;
    if (!cache) {
      await pipeline(write.compressed(inputs), sink);
      return await write.result();
    }
    const { headerOptions, memberSize, level } = settings;
    const signature = layerSignature(prepared, headerOptions, segments, memberSize, level);
    const record = parseRecord(await cache.readRecord(signature));
    await pipeline(record ? write.againstRecord(inputs, record, cache) : write.compressed(inputs), sink);
    const layer = await write.result(record);
    if (!layer.members.recordReused) await cache.writeRecord(signature, encodeRecord(write.log, layer));
    return layer;
  } finally {
    write.close();
  }
}

/** The state of one layer write: its stats, its member log and, once needed, its two hashes. */
class LayerWrite {
  readonly stats = emptyMemberStats();
  readonly log: MemberLog = { keys: [], lengths: [], crcs: [] };
  private hashes: { diff: ThreadedHash; blob: ThreadedHash } | undefined;

  constructor(private readonly settings: GzipLayerSettings) {}

  /**
   * The one-pass write: inputs are hashed for the diffID as they come, compressed in parallel (or
   * copied from the cache), and the members hashed for the digest on their way out.
   */
  compressed(inputs: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const { diff, blob } = this.startHashes();
    const { level, parallelism, cache } = this.settings;
    const tar = readAhead(hashed(inputs, diff), READ_AHEAD);
    return hashed(gzipMembers(tar, { level, parallelism, cache }, this.stats, this.log), blob);
  }

  /**
   * Copies the recorded members while the inputs keep their keys, hashing nothing; keys are
   * computed `parallelism` at a time ahead. At the first difference (or a damaged member), the
   * two hashes catch up over the members already written, and the rest goes through compressed().
   */
  async *againstRecord(
    inputs: AsyncIterable<Buffer>,
    record: LayerRecord,
    cache: MemberCache,
  ): AsyncGenerator<Buffer> {
    const source = readAhead(inputs, READ_AHEAD)[Symbol.asyncIterator]();
    const matches = async (input: Buffer, index: number): Promise<CachedMember | undefined> => {
      const key = record.keys[index];
      if (key === undefined || input.length !== record.lengths[index]) return undefined;
      if ((await cacheKey(input)) !== key) return undefined;
      const found = await cache.get(key, input.length);
      return typeof found !== "string" && found.crc === record.crcs[index] ? found : undefined;
    };
    const ahead: { input: Buffer; found: Promise<CachedMember | undefined> }[] = [];
    let exhausted = false;
    try {
      for (;;) {
        while (!exhausted && ahead.length <= this.settings.parallelism) {
          const next = await source.next();
          if (next.done) exhausted = true;
          else {
            const found = matches(next.value, this.stats.members + ahead.length);
            found.catch(() => undefined);
            ahead.push({ input: next.value, found });
          }
        }
        const head = ahead[0];
        const found = head && (await head.found);
        if (!head || !found) break;
        ahead.shift();
        this.stats.members++;
        this.stats.cacheHits++;
        this.log.keys.push(record.keys[this.log.keys.length]!);
        this.log.lengths.push(head.input.length);
        this.log.crcs.push(found.crc);
        yield found.member;
      }
      if (ahead.length === 0 && this.stats.members === record.keys.length) {
        this.stats.recordReused = true;
        return;
      }
      // The checks still running ahead are moot now; let them finish before going on.
      await Promise.allSettled(ahead.map(({ found }) => found));
      await this.catchUp(cache);
      const rest = ahead.splice(0).map(({ input }) => input);
      yield* this.compressed(concat(rest, { [Symbol.asyncIterator]: () => source }));
    } finally {
      await Promise.allSettled(ahead.map(({ found }) => found));
      await source.return?.(undefined);
    }
  }

  /** The layer's digests: from the record when it was reused, else from the hashes. */
  async result(record?: LayerRecord): Promise<GzipLayer> {
    if (this.stats.recordReused && record) {
      const { digest, size, diffID, uncompressedSize } = record;
      return { digest, size, diffID, uncompressedSize, members: this.stats };
    }
    const { diff, blob } = this.startHashes();
    return {
      digest: `sha256:${await blob.digest()}`,
      size: blob.size,
      diffID: `sha256:${await diff.digest()}`,
      uncompressedSize: diff.size,
      members: this.stats,
    };
  }

  /** Drops unfinished hashes (after a failure). */
  close(): void {
    this.hashes?.diff.cancel();
    this.hashes?.blob.cancel();
  }

  private startHashes(): { diff: ThreadedHash; blob: ThreadedHash } {
    this.hashes ??= { diff: new ThreadedHash("sha256"), blob: new ThreadedHash("sha256") };
    return this.hashes;
  }

  /**
   * Feeds the hashes the members written so far, read back from the cache: the members for the
   * digest and their content, which is exactly the tar so far, for the diffID.
   */
  private async catchUp(cache: MemberCache): Promise<void> {
    const { diff, blob } = this.startHashes();
    for (const [index, key] of this.log.keys.entries()) {
      const found = await cache.get(key, this.log.lengths[index]!);
      if (typeof found === "string" || found.crc !== this.log.crcs[index]) {
        throw new PolypackError(
          "LAYER_CACHE_CHANGED",
          `gzip member ${cache.entryPath(key)} changed while in use`,
          {
            hint: "another process may be clearing the cache; run again",
          },
        );
      }
      await blob.update(found.member);
      await diff.update(await gunzipAsync(found.member));
    }
  }
}

/** Passes chunks through, handing each to a hash on the way. */
async function* hashed(source: AsyncIterable<Buffer>, hash: ThreadedHash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    await hash.update(chunk);
    yield chunk;
  }
}

/** The given chunks, then the rest of `source`. */
async function* concat(first: readonly Buffer[], source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  yield* source;
}
