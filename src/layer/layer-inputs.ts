import type { MemberCache } from "./member-cache.js";
import type { HeaderOptions } from "./header.js";
import {
  parseSegmentRecord,
  recordedMembers,
  segmentSignature,
  type LayerRecord,
  type SegmentRecord,
} from "./layer-record.js";
import {
  segmentFile,
  segmentIdentities,
  segmentInputs,
  vouchedMembers,
  type InputStart,
  type MemberInput,
  type VouchedBytes,
} from "./member-inputs.js";
import { cacheKey, type MemberLog } from "./parallel-gzip.js";
import type { Segment } from "./segment-plan.js";
import { fileHeaderBytes, type PreparedEntry } from "./tar-writer.js";

/** A member input as a record check sees it: read, or vouched for by its file's identity. */
export interface CheckedInput {
  /** The member's index in the layer. */
  index: number;
  segment: number;
  /** The member's index within its segment. */
  position: number;
  length: number;
  /** The bytes; absent when the segment's file has the identity the record names. */
  bytes?: Buffer;
}

/** A layer's member inputs: read in full, or as a check against a record needs them. */
export class LayerInputs {
  readonly identities: (string | null)[];
  /** The segment records found for segments with an identity, by segment index. */
  private readonly known = new Map<number, SegmentRecord>();

  constructor(
    private readonly prepared: readonly PreparedEntry[],
    readonly segments: readonly Segment[],
    private readonly settings: { headerOptions: HeaderOptions; memberSize: number },
  ) {
    this.identities = segmentIdentities(prepared, segments);
  }

  /** The signature of each segment with an identity, by segment index. */
  private signatures(level: number): Map<number, string> {
    const { headerOptions, memberSize } = this.settings;
    const signatures = new Map<number, string>();
    for (const [index, identity] of this.identities.entries()) {
      const segment = this.segments[index]!;
      const entry = this.prepared[segment.start]!;
      if (identity === null) continue;
      const { endOfArchive } = segment;
      signatures.set(
        index,
        segmentSignature(entry, identity, headerOptions, endOfArchive, memberSize, level),
      );
    }
    return signatures;
  }

  /** Looks up the segment records of the segments with an identity. */
  async readSegmentRecords(cache: MemberCache): Promise<void> {
    for (const [index, signature] of this.signatures(cache.level)) {
      const record = parseSegmentRecord(await cache.readRecord(signature, "segments"));
      if (record) this.known.set(index, record);
    }
  }

  /** Records the members of each segment with an identity whose record is missing or stale. */
  async writeSegmentRecords(
    cache: MemberCache,
    log: MemberLog,
    memberSegments: readonly number[],
  ): Promise<void> {
    for (const [index, signature] of this.signatures(cache.level)) {
      const members = [...memberSegments.keys()].filter((member) => memberSegments[member] === index);
      const keys = members.map((member) => log.keys[member]!);
      const lengths = members.map((member) => log.lengths[member]!);
      const known = this.known.get(index);
      if (keys.length === 0 || (known && keys.join() === known.keys.join())) continue;
      await cache.writeRecord(signature, JSON.stringify({ keys, lengths }), "segments");
    }
  }

  /**
   * Every member's input, from `start` on. The members of a one-file segment whose segment record
   * is known are vouched for, not read: their keys are the recorded ones.
   */
  async *from(start: InputStart = { segment: 0, skip: 0 }): AsyncGenerator<MemberInput> {
    const { headerOptions, memberSize } = this.settings;
    for (let segment = start.segment; segment < this.segments.length; segment++) {
      const skip = segment === start.segment ? start.skip : 0;
      const vouched = await this.vouched(segment);
      if (vouched) {
        for (let position = skip; position < vouched.length; position++) {
          const { length, key, bytes } = vouched[position]!;
          yield { segment, position, length, key, vouched: bytes };
        }
        continue;
      }
      let position = 0;
      for await (const bytes of segmentInputs(
        this.prepared,
        this.segments[segment]!,
        headerOptions,
        memberSize,
      )) {
        if (position >= skip) yield { segment, position, length: bytes.length, bytes };
        position++;
      }
    }
  }

  /** The members of a one-file segment whose record is known, unread; undefined for any other. */
  private async vouched(
    segment: number,
  ): Promise<{ length: number; key: string; bytes: VouchedBytes }[] | undefined> {
    const record = this.known.get(segment);
    const span = this.segments[segment]!;
    const onDisk = segmentFile(this.prepared, span);
    if (!record || onDisk?.entry.file === undefined) return undefined;
    const { entry, path } = onDisk;
    const { headerOptions, memberSize } = this.settings;
    const header = await fileHeaderBytes(entry, path, headerOptions);
    const file = { path: onDisk.entry.file, size: entry.size };
    const members = vouchedMembers(header, file, span.endOfArchive, memberSize, record.lengths);
    return members?.map((bytes, index) => ({
      length: record.lengths[index]!,
      key: record.keys[index]!,
      bytes,
    }));
  }

  /**
   * The members in order, as a check against `record` needs them: a segment whose one file has
   * the identity the record names is not read (its members are the recorded ones); any other
   * segment is read.
   */
  async *checked(record: LayerRecord): AsyncGenerator<CheckedInput> {
    const { headerOptions, memberSize } = this.settings;
    let index = 0;
    for (const [segment, span] of this.segments.entries()) {
      const identity = this.identities[segment];
      const recorded = recordedMembers(record, segment);
      if (
        typeof identity === "string" &&
        identity === record.identities[segment] &&
        recorded.first === index
      ) {
        for (; index < recorded.end; index++) {
          yield { index, segment, position: index - recorded.first, length: record.lengths[index]! };
        }
        if (recorded.end > recorded.first) continue;
      }
      let position = 0;
      for await (const bytes of segmentInputs(this.prepared, span, headerOptions, memberSize)) {
        yield { index: index++, segment, position: position++, length: bytes.length, bytes };
      }
    }
  }
}

/** Whether an input is the member the record lists at its index (hashing it when it was read). */
export async function keyMatches(input: CheckedInput, record: LayerRecord): Promise<boolean> {
  const key = record.keys[input.index];
  if (key === undefined || record.lengths[input.index] !== input.length) return false;
  if (record.segments[input.index] !== input.segment) return false;
  return input.bytes === undefined || (await cacheKey(input.bytes)) === key;
}
