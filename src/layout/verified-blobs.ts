import type { BigIntStats } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Digest } from "../oci/digest.js";
import { mapLimit } from "../util/concurrency.js";
import { identityOf, identitySettled, sameIdentity, type FileIdentity } from "../util/file-identity.js";
import { writeFileAtomic } from "../util/fs.js";
import { readFileCapped } from "./blob-files.js";
import { blobRelativePath } from "./layout-files.js";

/** polypack's own folder inside a layout; OCI tools read only `oci-layout`, `index.json` and `blobs/`. */
export const STATE_DIR = ".polypack";
/** The file, under STATE_DIR, that remembers which blob files polypack has verified. */
export const VERIFIED_FILE = "verified.json";

const FORMAT_VERSION = 1;
const MAX_STATE_BYTES = 32 * 1024 * 1024;
/** The identity of a blob file when polypack verified it, and when that was (all in decimal strings). */
export interface VerifiedRecord {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  /** Wall-clock time (ns since the epoch) taken before the file was looked at. */
  recordedNs: string;
}

/** The file identity a record holds. */
function identityIn(record: VerifiedRecord): FileIdentity {
  const { dev, ino, size, mtimeNs, ctimeNs } = record;
  return { dev, ino, size: Number(size), mtimeNs, ctimeNs };
}

const DECIMAL = /^\d{1,30}$/;
const FIELDS = ["dev", "ino", "size", "mtimeNs", "ctimeNs", "recordedNs"] as const;

/** The records of a state file; anything malformed is dropped, since the file is only a cache. */
function parseState(bytes: Buffer | undefined): Map<string, VerifiedRecord> {
  const records = new Map<string, VerifiedRecord>();
  if (bytes === undefined) return records;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    return records;
  }
  if (typeof parsed !== "object" || parsed === null) return records;
  const { version, blobs } = parsed as { version?: unknown; blobs?: unknown };
  if (version !== FORMAT_VERSION || typeof blobs !== "object" || blobs === null) return records;
  for (const [digest, value] of Object.entries(blobs)) {
    if (!Digest.isValid(digest) || typeof value !== "object" || value === null) continue;
    const record = value as Record<string, unknown>;
    if (FIELDS.every((field) => typeof record[field] === "string" && DECIMAL.test(record[field]))) {
      records.set(digest, Object.fromEntries(FIELDS.map((f) => [f, record[f]])) as unknown as VerifiedRecord);
    }
  }
  return records;
}

/** Shared by every OciLayout of one directory in this process. */
const byLayout = new Map<string, VerifiedBlobs>();

/**
 * What polypack knows to be verified in one layout: blob files whose bytes it hashed (or wrote
 * through a verifying stream), by file identity (device, inode, size, mtime and ctime in ns).
 * A file whose identity is unchanged since is trusted without hashing it again; ctime matters
 * because no user-space call can set it, so an in-place edit that restores size and mtime still
 * shows. Records persist in `.polypack/verified.json`, written only under the layout lock (by
 * `flush`); in between, this process's own verifications are kept in memory.
 */
export class VerifiedBlobs {
  private persisted: Promise<Map<string, VerifiedRecord>> | undefined;
  /** Identities verified by this process, by digest. */
  private readonly session = new Map<string, FileIdentity>();
  private readonly pending = new Map<string, VerifiedRecord>();

  private constructor(private readonly layoutPath: string) {}

  /** The state of the layout at `layoutPath`, shared within the process. */
  static of(layoutPath: string): VerifiedBlobs {
    const key = resolve(layoutPath);
    let state = byLayout.get(key);
    if (!state) {
      state = new VerifiedBlobs(key);
      byLayout.set(key, state);
    }
    return state;
  }

  /** The state file's path. */
  get file(): string {
    return join(this.layoutPath, STATE_DIR, VERIFIED_FILE);
  }

  /**
   * Whether the file with this identity holds the blob without hashing it: verified by this
   * process with the same identity, or recorded so when the file had settled (see
   * identitySettled: a change within the same timestamp tick could otherwise go unseen).
   */
  async trusted(digest: string, info: BigIntStats): Promise<boolean> {
    const current = identityOf(info);
    const seen = this.session.get(digest);
    if (seen && sameIdentity(seen, current)) return true;
    const record = (await this.load()).get(digest);
    if (!record) return false;
    const recorded = identityIn(record);
    if (!sameIdentity(recorded, current) || !identitySettled(recorded, BigInt(record.recordedNs)))
      return false;
    this.session.set(digest, recorded);
    return true;
  }

  /** Remembers that the file with this identity was verified; `recordedNs` is when it was looked at. */
  note(digest: string, info: BigIntStats, recordedNs: bigint): void {
    const identity = identityOf(info);
    this.session.set(digest, identity);
    this.pending.set(digest, { ...identity, size: String(identity.size), recordedNs: recordedNs.toString() });
  }

  /** Whether records were noted since the last flush. */
  get unsaved(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Writes the records noted since the last flush into the state file, merged with what other
   * processes recorded, dropping records of files that are gone or changed. Callers hold the
   * layout lock, so no other process rewrites the file meanwhile.
   */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const records = parseState(await readFileCapped(this.file, MAX_STATE_BYTES, "state file"));
    for (const [digest, record] of this.pending) records.set(digest, record);
    this.pending.clear();
    const kept = await mapLimit([...records], 16, async ([digest, record]) => {
      const path = join(this.layoutPath, blobRelativePath(Digest.parse(digest)));
      const info = await stat(path, { bigint: true }).catch(() => undefined);
      return info && sameIdentity(identityIn(record), identityOf(info)) ? digest : undefined;
    });
    const current = new Map<string, VerifiedRecord>();
    for (const digest of kept) if (digest !== undefined) current.set(digest, records.get(digest)!);
    const blobs = Object.fromEntries(current);
    await writeFileAtomic(this.file, JSON.stringify({ version: FORMAT_VERSION, blobs }) + "\n");
    this.persisted = Promise.resolve(current);
  }

  private load(): Promise<Map<string, VerifiedRecord>> {
    this.persisted ??= readFileCapped(this.file, MAX_STATE_BYTES, "state file").then(parseState, () =>
      parseState(undefined),
    );
    return this.persisted;
  }
}
