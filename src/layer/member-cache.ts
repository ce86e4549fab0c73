import { open, mkdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { PolypackError } from "../errors.js";
import { tempPathBeside } from "../util/fs.js";

// Bumped whenever the entry layout or the way members are made changes; old entries are then
// simply never looked at again.
const FORMAT = "gzip-members-v1";
const MAGIC = Buffer.from("ppgzmbr1", "latin1");
const HEADER_BYTES = MAGIC.length + 8;
const GZIP_OS_OFFSET = 9;
// A gzip header (10 bytes), an empty deflate block and the trailer (8 bytes).
const MIN_MEMBER_BYTES = 20;

/** Layer records, or segment records (see layer-record.ts). */
export type RecordKind = "layers" | "segments";

/** A member read back from the cache, with the CRC-32 its entry vouches for. */
export interface CachedMember {
  member: Buffer;
  crc: number;
}

/**
 * Encodes a cache entry: magic, member length and CRC-32 of the member (both big-endian), then
 * the member. The CRC catches truncation, zero-filled pages after a crash and bit rot for a small
 * fraction of the cost of a second cryptographic hash; the key already pins the uncompressed content.
 */
export function encodeCacheEntry(member: Uint8Array): { entry: Buffer; crc: number } {
  const { header, crc } = cacheEntryHeader(member);
  return { entry: Buffer.concat([header, member]), crc };
}

/** The bytes a cache entry starts with, before the member itself. */
function cacheEntryHeader(member: Uint8Array): { header: Buffer; crc: number } {
  const header = Buffer.alloc(HEADER_BYTES);
  const crc = crc32(member);
  MAGIC.copy(header);
  header.writeUInt32BE(member.length, MAGIC.length);
  header.writeUInt32BE(crc, MAGIC.length + 4);
  return { header, crc };
}

/**
 * The member inside a cache entry, or undefined when the entry is damaged or does not hold a
 * gzip member of `inputLength` uncompressed bytes with polypack's header.
 */
export function decodeCacheEntry(entry: Buffer, inputLength: number): CachedMember | undefined {
  if (entry.length < HEADER_BYTES + MIN_MEMBER_BYTES || !entry.subarray(0, MAGIC.length).equals(MAGIC)) {
    return undefined;
  }
  const length = entry.readUInt32BE(MAGIC.length);
  if (entry.length !== HEADER_BYTES + length) return undefined;
  const member = entry.subarray(HEADER_BYTES);
  if (member[0] !== 0x1f || member[1] !== 0x8b || member[2] !== 8 || member[GZIP_OS_OFFSET] !== 255) {
    return undefined;
  }
  // ISIZE: the uncompressed length modulo 2^32, the last field of every member.
  if (member.readUInt32LE(member.length - 4) !== inputLength % 2 ** 32) return undefined;
  const crc = entry.readUInt32BE(MAGIC.length + 4);
  return crc32(member) === crc ? { member, crc } : undefined;
}

/**
 * Gzip members compressed before, kept in a directory between runs and looked up by a hash of
 * their uncompressed bytes. The directory names the entry format, the zlib build and the level,
 * because the same input compresses to other bytes under another zlib or level. Entries appear by
 * rename only, so a reader never sees a partial one; a damaged entry reads as "damaged" and is
 * replaced by the next put. Beside the members, a small record per layer remembers which members
 * made it and its digests (see layer-record.ts).
 */
export class MemberCache {
  private readonly dir: string;

  constructor(
    /** The cache directory (created on first write). */
    readonly root: string,
    /** The gzip level of every member in this cache view. */
    readonly level: number,
  ) {
    const zlib = process.versions.zlib?.replace(/[^A-Za-z0-9.-]/g, "_") ?? "unknown";
    this.dir = join(root, FORMAT, `zlib-${zlib}`, `level-${level}`);
  }

  /** The file holding the member whose input has the key `key` (hex). */
  entryPath(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  /** The file holding a layer record (or, with kind "segments", a segment record) by signature (hex). */
  recordPath(signature: string, kind: RecordKind = "layers"): string {
    return join(this.dir, kind, `${signature}.json`);
  }

  /**
   * The cached member, "missing", or "damaged" when an entry exists but cannot be trusted (it is
   * left for put to replace).
   */
  async get(key: string, inputLength: number): Promise<CachedMember | "missing" | "damaged"> {
    const entry = await readIfPresent(this.entryPath(key));
    if (entry === "missing" || entry === "unreadable") return entry === "missing" ? "missing" : "damaged";
    return decodeCacheEntry(entry, inputLength) ?? "damaged";
  }

  /** Stores a member and returns its CRC-32; the entry appears whole or not at all. */
  async put(key: string, member: Uint8Array): Promise<number> {
    // Header and member go out in one gathered write: no copy of the member is made.
    const { header, crc } = cacheEntryHeader(member);
    await writeWhole(this.entryPath(key), [header, member]);
    return crc;
  }

  /** The stored text of a record, or undefined. */
  async readRecord(signature: string, kind: RecordKind = "layers"): Promise<string | undefined> {
    const text = await readIfPresent(this.recordPath(signature, kind));
    return typeof text === "string" ? undefined : text.toString("utf8");
  }

  /** Stores a record, replacing any older one. */
  async writeRecord(signature: string, text: string, kind: RecordKind = "layers"): Promise<void> {
    await writeWhole(this.recordPath(signature, kind), [Buffer.from(text, "utf8")]);
  }
}

async function readIfPresent(path: string): Promise<Buffer | "missing" | "unreadable"> {
  try {
    return await readFile(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
  }
}

/** Writes beside `path` and renames, so readers and concurrent writers never see a partial file. */
async function writeWhole(path: string, data: readonly Uint8Array[]): Promise<void> {
  const temp = tempPathBeside(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(temp, "w", 0o644);
    try {
      let written = 0;
      const total = data.reduce((sum, part) => sum + part.byteLength, 0);
      while (written < total) {
        const { bytesWritten } = await handle.writev(unwritten(data, written));
        written += bytesWritten;
      }
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // The cause that matters is the write's; a failing clean-up (say, ENOTDIR) must not hide it.
    await rm(temp, { force: true }).catch(() => undefined);
    throw new PolypackError("LAYER_CACHE_WRITE_FAILED", `cannot write gzip member cache entry ${path}`, {
      hint: "check that the cache directory is writable and has space, or run without the member cache",
      cause: error,
    });
  }
}

/** The parts of `data` after its first `offset` bytes. */
function unwritten(data: readonly Uint8Array[], offset: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  for (const part of data) {
    if (offset >= part.byteLength) offset -= part.byteLength;
    else {
      rest.push(offset > 0 ? part.subarray(offset) : part);
      offset = 0;
    }
  }
  return rest;
}
