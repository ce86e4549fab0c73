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
const GZIP_TRAILER_BYTES = 8;

/**
 * Encodes a cache entry: magic, member length and CRC-32 of the member (both big-endian), then
 * the member. The CRC catches truncation, zero-filled pages after a crash and bit rot for a small
 * fraction of the cost of a second SHA-256 pass; the key already pins the uncompressed content.
 */
export function encodeCacheEntry(member: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(member.length, MAGIC.length);
  header.writeUInt32BE(crc32(member), MAGIC.length + 4);
  return Buffer.concat([header, member]);
}

/**
 * The member inside a cache entry, or undefined when the entry is damaged or does not hold a
 * gzip member of `inputLength` uncompressed bytes with polypack's header.
 */
export function decodeCacheEntry(entry: Buffer, inputLength: number): Buffer | undefined {
  if (entry.length < HEADER_BYTES + 18 || !entry.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = entry.readUInt32BE(MAGIC.length);
  if (entry.length !== HEADER_BYTES + length) return undefined;
  const member = entry.subarray(HEADER_BYTES);
  if (member[0] !== 0x1f || member[1] !== 0x8b || member[2] !== 8 || member[GZIP_OS_OFFSET] !== 255) {
    return undefined;
  }
  // ISIZE: the uncompressed length modulo 2^32, the last field of every member.
  if (member.readUInt32LE(member.length - 4) !== inputLength % 2 ** 32) return undefined;
  if (member.length < GZIP_TRAILER_BYTES || crc32(member) !== entry.readUInt32BE(MAGIC.length + 4)) {
    return undefined;
  }
  return member;
}

/**
 * Gzip members compressed before, kept in a directory between runs and looked up by the SHA-256
 * of their uncompressed bytes. The directory names the entry format, the zlib build and the level,
 * because the same input compresses to other bytes under another zlib or level. Entries appear by
 * rename only, so a reader never sees a partial one; a damaged entry reads as a miss and is
 * replaced by the next put.
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

  /** The file holding the member of the input whose SHA-256 (hex) is `key`. */
  entryPath(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  /**
   * The cached member, "missing", or "damaged" when an entry exists but cannot be trusted (it is
   * left for put to replace).
   */
  async get(key: string, inputLength: number): Promise<Buffer | "missing" | "damaged"> {
    let entry: Buffer;
    try {
      entry = await readFile(this.entryPath(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
      return "damaged";
    }
    return decodeCacheEntry(entry, inputLength) ?? "damaged";
  }

  /** Stores a member: written beside its final name and renamed, so it appears whole or not at all. */
  async put(key: string, member: Uint8Array): Promise<void> {
    const path = this.entryPath(key);
    const temp = tempPathBeside(path);
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temp, "w", 0o644);
      try {
        await handle.writeFile(encodeCacheEntry(member));
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
}

