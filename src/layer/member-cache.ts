import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { PolypackError } from "../errors/index.js";
import { tempPathBeside } from "../util/fs.js";
import { hashOnThread } from "../util/threaded-hash.js";
import { GZIP_OS_UNKNOWN } from "./gzip.js";
import { TAR_ENCODER_VERSION } from "./tar-format.js";

const gunzipAsync = promisify(gunzip);

// Bumped whenever the entry layout or the way members are made changes; old entries are then
// simply never looked at again.
const FORMAT = "gzip-members-v2";
// Each entry ends with the SHA-256 of the member before it.
const SEAL_BYTES = 32;
const GZIP_OS_OFFSET = 9;
// Inflating a damaged entry must not balloon: a member never holds more than this.
const MAX_MEMBER_INPUT = 1024 * 1024 * 1024;

/** The name of a member's cache entry: the SHA-256 of its uncompressed bytes, hex. */
export function cacheKey(input: Uint8Array): Promise<string> {
  return hashOnThread("sha256", input);
}

/**
 * Compressed gzip members kept between runs, looked up by the SHA-256 of their uncompressed bytes.
 * An entry is the member followed by the SHA-256 of the member. Nothing read back is trusted: the
 * member must have that hash (so it is byte for byte what polypack compressed, not merely some
 * member of the same content) and must inflate to exactly the input it stands for; a truncated,
 * flipped, swapped or otherwise edited entry is "damaged", never used, and replaced by the next put. The directory names the entry format,
 * the tar encoder, the zlib build and the level, because the same input compresses to other bytes
 * under another zlib or level. Entries appear by rename only, so a reader never sees a partial one.
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
    this.dir = join(root, FORMAT, `tar-${TAR_ENCODER_VERSION}`, `zlib-${zlib}`, `level-${level}`);
  }

  /** The file holding the member whose input has the key `key` (hex). */
  entryPath(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  /**
   * The cached member of `input` (whose key is `key`): "missing", or "damaged" when an entry exists
   * but does not inflate to exactly `input` with polypack's header (it is left for put to replace).
   */
  async get(key: string, input: Buffer): Promise<Buffer | "missing" | "damaged"> {
    let entry: Buffer;
    try {
      entry = await readFile(this.entryPath(key));
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "damaged";
    }
    if (entry.length < 18 + SEAL_BYTES) return "damaged";
    const member = entry.subarray(0, entry.length - SEAL_BYTES);
    const seal = entry.subarray(entry.length - SEAL_BYTES);
    if (!createHash("sha256").update(member).digest().equals(seal)) return "damaged";
    if (member[0] !== 0x1f || member[1] !== 0x8b || member[2] !== 8) return "damaged";
    if (member[GZIP_OS_OFFSET] !== GZIP_OS_UNKNOWN) return "damaged";
    const content = await gunzipAsync(member, { maxOutputLength: MAX_MEMBER_INPUT }).catch(() => undefined);
    return content?.equals(input) ? member : "damaged";
  }

  /** Stores a member; the entry appears whole or not at all. */
  async put(key: string, member: Uint8Array): Promise<void> {
    const path = this.entryPath(key);
    const temp = tempPathBeside(path);
    try {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(temp, "w", 0o644);
      try {
        await handle.writeFile(Buffer.concat([member, createHash("sha256").update(member).digest()]));
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (error) {
      // The cause that matters is the write's; a failing clean-up (say, ENOTDIR) must not hide it.
      await rm(temp, { force: true }).catch(() => undefined);
      throw new PolypackError("LAYER_CACHE_WRITE_FAILED", `cannot write layer cache entry ${path}`, {
        hint: "check that the cache directory is writable and has space, or run with --no-layer-cache",
        cause: error,
      });
    }
  }
}
