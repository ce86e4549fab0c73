import { availableParallelism } from "node:os";
import { PolypackError } from "../errors.js";
import { gzipMember } from "./gzip.js";
import type { MemberCache } from "./member-cache.js";
import { hashOnThread } from "../util/threaded-hash.js";

/** What a multi-member gzip write did, member by member. */
export interface MemberStats {
  /** gzip members written. */
  members: number;
  /** Members compressed in this write. */
  compressed: number;
  /** Members copied from the member cache instead. */
  cacheHits: number;
  /** Damaged cache entries found; their members were compressed again and the entries replaced. */
  cacheRepaired: number;
  /**
   * Whether the whole layer was as the cache's record of an earlier write says: its members were
   * copied and its digests taken from the record, without hashing its bytes again.
   */
  recordReused: boolean;
}

/** How members are compressed. */
export interface ParallelGzipOptions {
  /** zlib level of every member. */
  level: number;
  /** Members compressed at once. */
  parallelism: number;
  /** Where members are looked up before compressing and stored after. */
  cache?: MemberCache | undefined;
}

/** A member's uncompressed bytes, with its cache key when that is already known. */
export interface MemberBytes {
  length: number;
  /** The bytes, or how to read them when they are needed (to compress the member). */
  bytes: Buffer | (() => Promise<Buffer>);
  /** The key (see cacheKey), known from a record; hashed from the bytes when absent. */
  key?: string | undefined;
}

/** What identifies each member written through the cache, in order: what a layer record keeps. */
export interface MemberLog {
  /** Cache keys of the members' inputs. */
  keys: string[];
  /** Uncompressed lengths. */
  lengths: number[];
  /** CRC-32 of the members. */
  crcs: number[];
}

const MAX_PARALLELISM = 64;
// BLAKE2b rather than SHA-256: as collision resistant, twice as fast without SHA CPU extensions,
// and hashing is most of the work when members come from the cache (see README.md).
const CACHE_KEY_ALGORITHM = "blake2b512";
const CACHE_KEY_HEX_LENGTH = 64;

/** The name of a member's cache entry: the first 256 bits of the BLAKE2b-512 of its input, hex. */
export async function cacheKey(input: Uint8Array): Promise<string> {
  return (await hashOnThread(CACHE_KEY_ALGORITHM, input)).slice(0, CACHE_KEY_HEX_LENGTH);
}

/**
 * Members compressed at once by default: one per core, at least two (so reading, hashing and
 * compressing overlap even on one core) and at most the libuv thread pool, which zlib and file
 * reads share.
 */
export function defaultParallelism(): number {
  const pool = Number(process.env["UV_THREADPOOL_SIZE"] ?? "4") || 4;
  return Math.max(2, Math.min(availableParallelism(), pool));
}

/** Refuses a parallelism that is not a sensible whole number. */
export function checkParallelism(parallelism: number): number {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_PARALLELISM) {
    throw new PolypackError("LAYER_OPTIONS_INVALID", `gzip parallelism ${parallelism} is invalid`, {
      hint: `use a whole number from 1 to ${MAX_PARALLELISM}`,
    });
  }
  return parallelism;
}

/** A fresh stats record. */
export function emptyMemberStats(): MemberStats {
  return { members: 0, compressed: 0, cacheHits: 0, cacheRepaired: 0, recordReused: false };
}

/**
 * Compresses every input as its own gzip member and yields the members in input order. Up to
 * `parallelism` members compress at once on zlib's thread pool; one more input is read ahead, so
 * at most `parallelism + 1` inputs and their members are held at a time. With a cache, an input
 * whose key is there is not compressed: its stored member is copied. Whatever happens, every
 * started member (and cache write) has settled before this generator returns or throws.
 */
export async function* gzipMembers(
  inputs: AsyncIterable<MemberBytes>,
  options: ParallelGzipOptions,
  stats: MemberStats,
  log?: MemberLog,
): AsyncGenerator<Buffer> {
  const slot = limiter(options.parallelism);
  const compressed = async (input: Buffer): Promise<Buffer> => {
    const member = await slot(() => gzipMember(input, options.level));
    stats.compressed++;
    return member;
  };
  const memberOf = async ({ bytes, key: known, length }: MemberBytes): Promise<MadeMember> => {
    // Read at most once, and only when the key or the compressor needs the bytes.
    let loaded: Promise<Buffer> | undefined;
    const read = (): Promise<Buffer> =>
      (loaded ??= typeof bytes === "function" ? bytes() : Promise.resolve(bytes));
    const cache = options.cache;
    if (!cache) return { member: await compressed(await read()), key: "", crc: 0 };
    const key = known ?? (await cacheKey(await read()));
    const found = await cache.get(key, length);
    if (typeof found !== "string") {
      stats.cacheHits++;
      return { ...found, key };
    }
    if (found === "damaged") stats.cacheRepaired++;
    const member = await compressed(await read());
    return { member, key, crc: await cache.put(key, member) };
  };
  const emitted = async ({ length, made }: (typeof pending)[number]): Promise<Buffer> => {
    const { member, key, crc } = await made;
    stats.members++;
    log?.keys.push(key);
    log?.lengths.push(length);
    log?.crcs.push(crc);
    return member;
  };
  const pending: { length: number; made: ReturnType<typeof memberOf> }[] = [];
  try {
    for await (const input of inputs) {
      const made = memberOf(input);
      // Awaited in order below; this only keeps a failure from counting as unhandled meanwhile.
      made.catch(() => undefined);
      pending.push({ length: input.length, made });
      while (pending.length > options.parallelism) yield await emitted(pending.shift()!);
    }
    while (pending.length > 0) yield await emitted(pending.shift()!);
  } finally {
    await Promise.allSettled(pending.map((job) => job.made));
  }
}

interface MadeMember {
  member: Buffer;
  key: string;
  crc: number;
}

/** Runs at most `limit` tasks at a time, starting waiting ones in the order they asked. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so no newcomer can slip in.
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
