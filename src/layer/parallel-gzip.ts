import { availableParallelism } from "node:os";
import { PolypackError } from "../errors/index.js";
import { Limiter } from "../util/concurrency.js";
import { gzipMember, looksIncompressible, storedMember } from "./gzip.js";
import { cacheKey, type MemberCache } from "./member-cache.js";

/** What a multi-member gzip write did, member by member. */
export interface MemberStats {
  /** gzip members written. */
  members: number;
  /** Members stored uncompressed, because their input looked incompressible (or the level is 0). */
  stored: number;
  /** Members compressed in this write. */
  compressed: number;
  /** Members copied from the layer cache instead (each checked against its input first). */
  cacheHits: number;
  /** Cache entries that did not check out; their members were compressed again and the entries replaced. */
  cacheRepaired: number;
}

/** How members are made. */
export interface ParallelGzipOptions {
  /** zlib level of compressed members; 0 stores every member. */
  level: number;
  /** Members compressed at once. */
  parallelism: number;
  /** Where compressed members are looked up before compressing and stored after. */
  cache?: MemberCache | undefined;
  /** Whether inputs that look incompressible are stored instead of compressed (default true). */
  probe?: boolean;
}

const MAX_PARALLELISM = 64;

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
  return { members: 0, stored: 0, compressed: 0, cacheHits: 0, cacheRepaired: 0 };
}

/**
 * Makes every input one gzip member and yields the members in input order. An input that looks
 * incompressible (see looksIncompressible) is stored, which costs a copy and a CRC; any other is
 * compressed at `level`, up to `parallelism` at once on zlib's thread pool, or copied from the
 * cache when an entry there inflates to exactly this input. At most `parallelism + 1` inputs and
 * their members are held at a time. Whatever happens, every started member (and cache write) has
 * settled before this generator returns or throws.
 */
export async function* gzipMembers(
  inputs: AsyncIterable<Buffer>,
  options: ParallelGzipOptions,
  stats: MemberStats,
): AsyncGenerator<Buffer> {
  const limiter = new Limiter(options.parallelism);
  const compressed = async (input: Buffer): Promise<Buffer> => {
    const member = await limiter.run(() => gzipMember(input, options.level));
    stats.compressed++;
    return member;
  };
  const memberOf = async (input: Buffer): Promise<Buffer> => {
    if (options.level === 0 || (options.probe !== false && looksIncompressible(input))) {
      stats.stored++;
      return storedMember(input);
    }
    const cache = options.cache;
    if (!cache) return compressed(input);
    const key = await cacheKey(input);
    const found = await cache.get(key, input);
    if (typeof found !== "string") {
      stats.cacheHits++;
      return found;
    }
    if (found === "damaged") stats.cacheRepaired++;
    const member = await compressed(input);
    await cache.put(key, member);
    return member;
  };
  const pending: Promise<Buffer>[] = [];
  const emitted = async (made: Promise<Buffer>): Promise<Buffer> => {
    const member = await made;
    stats.members++;
    return member;
  };
  try {
    for await (const input of inputs) {
      const made = memberOf(input);
      // Awaited in order below; this only keeps a failure from counting as unhandled meanwhile.
      made.catch(() => undefined);
      pending.push(made);
      while (pending.length > options.parallelism) yield await emitted(pending.shift()!);
    }
    while (pending.length > 0) yield await emitted(pending.shift()!);
  } finally {
    await Promise.allSettled(pending);
  }
}
