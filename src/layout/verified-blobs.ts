import type { BigIntStats } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Digest } from "../oci/digest.js";
import { mapLimit } from "../util/concurrency.js";
import { writeFileAtomic } from "../util/fs.js";
import { readFileCapped } from "./blob-files.js";
import { blobRelativePath } from "./layout-files.js";

/** polypack's own folder inside a layout; OCI tools read only `oci-layout`, `index.json` and `blobs/`. */
export const STATE_DIR = ".polypack";
/** The file, under STATE_DIR, that remembers which blob files polypack has verified. */
export const VERIFIED_FILE = "verified.json";

const FORMAT_VERSION = 1;
const MAX_STATE_BYTES = 32 * 1024 * 1024;
/**
 * A record is trusted only when the file's ctime is at least this much older than the moment the
 * record was made: on a file system with coarse timestamps, a change made within the same tick as
 * the verification would otherwise leave the identity unchanged.
 */
export const TRUST_MARGIN_NS = 2_000_000_000n;

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

/** The current wall-clock time in nanoseconds since the epoch, comparable with file ctimes. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function identityOf(info: BigIntStats): Omit<VerifiedRecord, "recordedNs"> {
  return {
    dev: info.dev.toString(),
    ino: info.ino.toString(),
    size: info.size.toString(),
    mtimeNs: info.mtimeNs.toString(),
    ctimeNs: info.ctimeNs.toString(),
  };
}

function sameIdentity(record: Omit<VerifiedRecord, "recordedNs">, info: BigIntStats): boolean {
  const current = identityOf(info);
  return (
    record.dev === current.dev &&
    record.ino === current.ino &&
    record.size === current.size &&
    record.mtimeNs === current.mtimeNs &&
    record.ctimeNs === current.ctimeNs
  );
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
  private readonly session = new Map<string, Omit<VerifiedRecord, "recordedNs">>();
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
   * process with the same identity, or recorded so, with a ctime at least TRUST_MARGIN_NS older
   * than the record.
   */
  async trusted(digest: string, info: BigIntStats): Promise<boolean> {
    const seen = this.session.get(digest);
    if (seen && sameIdentity(seen, info)) return true;
    const record = (await this.load()).get(digest);
    if (!record || !sameIdentity(record, info)) return false;
    if (BigInt(record.ctimeNs) + TRUST_MARGIN_NS > BigInt(record.recordedNs)) return false;
    this.session.set(digest, record);
    return true;
  }

  /** Remembers that the file with this identity was verified; `recordedNs` is when it was looked at. */
  note(digest: string, info: BigIntStats, recordedNs: bigint): void {
    const identity = identityOf(info);
    this.session.set(digest, identity);
    this.pending.set(digest, { ...identity, recordedNs: recordedNs.toString() });
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
      return info && sameIdentity(record, info) ? digest : undefined;
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
