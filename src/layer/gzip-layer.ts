import type { Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { PolypackError } from "../errors.js";
import type { HeaderOptions } from "./header.js";
import { keyMatches, LayerInputs, type CheckedInput } from "./layer-inputs.js";
import { encodeRecord, layerSignature, parseRecord, type LayerRecord } from "./layer-record.js";
import type { CachedMember, MemberCache } from "./member-cache.js";
import { readVouched, type MemberInput } from "./member-inputs.js";
import {
  emptyMemberStats,
  gzipMembers,
  type MemberBytes,
  type MemberLog,
  type MemberStats,
} from "./parallel-gzip.js";
import { planSegments } from "./segment-plan.js";
import type { PreparedEntry } from "./tar-writer.js";
import { readAhead } from "./stream-util.js";
import { ThreadedHash } from "../util/threaded-hash.js";

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
  /** Whether the destination already holds a blob (see LayerOptions.alreadyStored). */
  alreadyStored?: ((blob: StoredBlob) => Promise<boolean>) | undefined;
}

/** The digest and size of a blob a destination may already hold. */
export interface StoredBlob {
  digest: string;
  size: number;
}

/** The digests and sizes of a written gzip layer, with how its members were made. */
export interface GzipLayer {
  digest: string;
  size: number;
  diffID: string;
  uncompressedSize: number;
  members: MemberStats;
  /** False when the destination already held the layer and nothing was written to the sink. */
  written: boolean;
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
  const inputs = new LayerInputs(prepared, planSegments(prepared, settings.segmentThreshold), settings);
  const write = new LayerWrite(settings, inputs);
  try {
    const cache = settings.cache;
    if (!cache) {
      await pipeline(write.compressed(inputs.from()), sink);
      return await write.result();
    }
    const { headerOptions, memberSize, level } = settings;
    const signature = layerSignature(prepared, headerOptions, inputs.segments, memberSize, level);
    const record = parseRecord(await cache.readRecord(signature));
    if (record && (await alreadyStored(record, settings, inputs))) {
      sink.end();
      await finished(sink);
      return { ...recordedLayer(record), members: { ...write.stats, recordReused: true }, written: false };
    }
    await inputs.readSegmentRecords(cache);
    await pipeline(record ? write.againstRecord(record, cache) : write.compressed(inputs.from()), sink);
    const layer = await write.result(record);
    if (!layer.members.recordReused) {
      const shape = { segments: write.memberSegments, identities: inputs.identities };
      await cache.writeRecord(signature, encodeRecord(write.log, { ...layer, ...shape }));
      await inputs.writeSegmentRecords(cache, write.log, write.memberSegments);
    }
    return layer;
  } finally {
    write.close();
  }
}

/**
 * Whether the destination already holds the recorded layer and every member's input still has its
 * recorded key, so that writing the layer again would give the blob it has. Inputs are checked
 * (keys `parallelism` at a time) up to the first difference; nothing is written.
 */
async function alreadyStored(
  record: LayerRecord,
  settings: GzipLayerSettings,
  inputs: LayerInputs,
): Promise<boolean> {
  if (!settings.alreadyStored || !(await settings.alreadyStored(record))) return false;
  const checks: Promise<boolean>[] = [];
  let count = 0;
  try {
    for await (const input of readAhead(inputs.checked(record), READ_AHEAD)) {
      count++;
      const check = keyMatches(input, record);
      check.catch(() => undefined);
      checks.push(check);
      if (
        checks.length > settings.parallelism &&
        !(await checks[checks.length - 1 - settings.parallelism]!)
      ) {
        return false;
      }
    }
    for (const check of checks) if (!(await check)) return false;
    return count === record.keys.length;
  } finally {
    await Promise.allSettled(checks);
  }
}

/** The digests and sizes a record gives. */
function recordedLayer(record: LayerRecord): Omit<GzipLayer, "members" | "written"> {
  const { digest, size, diffID, uncompressedSize } = record;
  return { digest, size, diffID, uncompressedSize };
}

/** The state of one layer write: its stats, its member log and, once needed, its two hashes. */
class LayerWrite {
  readonly stats = emptyMemberStats();
  readonly log: MemberLog = { keys: [], lengths: [], crcs: [] };
  /** The segment of each member written, in order. */
  readonly memberSegments: number[] = [];
  private hashes: { diff: ThreadedHash; blob: ThreadedHash } | undefined;

  constructor(
    private readonly settings: GzipLayerSettings,
    private readonly inputs: LayerInputs,
  ) {}

  /**
   * The one-pass write: inputs are hashed for the diffID as they come, compressed in parallel (or
   * copied from the cache), and the members hashed for the digest on their way out.
   */
  compressed(inputs: AsyncIterable<MemberInput>): AsyncGenerator<Buffer> {
    const { diff, blob } = this.startHashes();
    const { level, parallelism, cache } = this.settings;
    const tar = readAhead(this.tracked(inputs, diff), READ_AHEAD);
    return hashed(gzipMembers(tar, { level, parallelism, cache }, this.stats, this.log), blob);
  }

  /**
   * Copies the recorded members while the inputs keep their keys, hashing nothing; keys are
   * computed `parallelism` at a time ahead, and files whose identity the record names are not read
   * at all. At the first difference (or a damaged member), the two hashes catch up over the members
   * already written, and the rest goes through compressed().
   */
  async *againstRecord(record: LayerRecord, cache: MemberCache): AsyncGenerator<Buffer> {
    const source = readAhead(this.inputs.checked(record), READ_AHEAD)[Symbol.asyncIterator]();
    const matches = async (input: CheckedInput): Promise<CachedMember | undefined> => {
      if (!(await keyMatches(input, record))) return undefined;
      const found = await cache.get(record.keys[input.index]!, input.length);
      return typeof found !== "string" && found.crc === record.crcs[input.index] ? found : undefined;
    };
    const ahead: { input: CheckedInput; found: Promise<CachedMember | undefined> }[] = [];
    let exhausted = false;
    try {
      for (;;) {
        while (!exhausted && ahead.length <= this.settings.parallelism) {
          const next = await source.next();
          if (next.done) exhausted = true;
          else {
            const found = matches(next.value);
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
        this.log.keys.push(record.keys[head.input.index]!);
        this.log.lengths.push(head.input.length);
        this.log.crcs.push(found.crc);
        this.memberSegments.push(head.input.segment);
        yield found.member;
      }
      if (ahead.length === 0 && this.stats.members === record.keys.length) {
        this.stats.recordReused = true;
        return;
      }
      // Where the layer departs from the record; the checks still running ahead are moot now.
      const differs = ahead[0]?.input;
      await Promise.allSettled(ahead.splice(0).map(({ found }) => found));
      await source.return?.(undefined);
      await this.catchUp(cache);
      const start = differs
        ? { segment: differs.segment, skip: differs.position }
        : { segment: this.inputs.segments.length, skip: 0 };
      yield* this.compressed(this.inputs.from(start));
    } finally {
      await Promise.allSettled(ahead.map(({ found }) => found));
      await source.return?.(undefined);
    }
  }

  /** The layer's digests: from the record when it was reused, else from the hashes. */
  async result(record?: LayerRecord): Promise<GzipLayer> {
    if (this.stats.recordReused && record) {
      return { ...recordedLayer(record), members: this.stats, written: true };
    }
    const { diff, blob } = this.startHashes();
    const [diffHex, blobHex] = await Promise.all([diff.digest(), blob.digest()]).catch((error: unknown) => {
      // A hashing thread reads vouched files itself; one that no longer matches fails here.
      throw new PolypackError(
        "LAYER_SOURCE_CHANGED",
        `cannot finish the layer: ${(error as Error).message}`,
        {
          hint: "a file changed while the layer was being written; run again",
          cause: error,
        },
      );
    });
    return {
      digest: `sha256:${blobHex}`,
      size: blob.size,
      diffID: `sha256:${diffHex}`,
      uncompressedSize: diff.size,
      members: this.stats,
      written: true,
    };
  }

  /** Drops unfinished hashes (after a failure). */
  close(): void {
    this.hashes?.diff.cancel();
    this.hashes?.blob.cancel();
  }

  /**
   * Hashes each input for the diffID and notes its segment as it goes by; gzipMembers makes one
   * member of each, in order. A vouched member's file run is hashed by the hashing thread itself,
   * and read here only if the member has to be compressed.
   */
  private async *tracked(
    inputs: AsyncIterable<MemberInput>,
    diff: ThreadedHash,
  ): AsyncGenerator<MemberBytes> {
    for await (const { segment, length, bytes, vouched, key } of inputs) {
      this.memberSegments.push(segment);
      if (bytes) {
        await diff.update(bytes);
        yield { length, bytes, key };
      } else if (vouched) {
        await diff.update(vouched.header);
        if (vouched.file.length > 0) diff.updateFromFile(vouched.file);
        if (vouched.zeros > 0) await diff.update(Buffer.alloc(vouched.zeros));
        yield { length, bytes: () => readVouched(vouched), key };
      }
    }
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
