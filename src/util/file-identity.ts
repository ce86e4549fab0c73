import type { BigIntStats } from "node:fs";
import { stat } from "node:fs/promises";

/**
 * What tells one state of a file from another without reading it: device, inode, size, and the
 * modification and change times in nanoseconds. The change time (ctime) is set by the kernel on
 * every write, rename or attribute change and cannot be set from user space, so an edit in place
 * that restores the size and mtime still gives another identity.
 */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

// File systems keep times at a coarse granularity (a clock tick, or whole seconds on some), so a
// write right after an identity was taken could leave every field as it was. An identity is only
// relied on when the file had been still for this long when it was taken.
const SETTLED_NS = 2_000_000_000n;

/** The identity in a stat taken with `{ bigint: true }`. */
export function identityOf(stats: BigIntStats): FileIdentity {
  return {
    dev: String(stats.dev),
    ino: String(stats.ino),
    size: Number(stats.size),
    mtimeNs: String(stats.mtimeNs),
    ctimeNs: String(stats.ctimeNs),
  };
}

/** The identity of the file at `path` now. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  return identityOf(await stat(path, { bigint: true }));
}

/** Whether two identities are of the same file in the same state. */
export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/**
 * Whether an identity taken at `takenAtNs` (nanoseconds since 1970) can vouch for the file later:
 * its last change was long enough before, so any later write shows in the change time.
 */
export function identitySettled(identity: FileIdentity, takenAtNs: bigint): boolean {
  return takenAtNs - BigInt(identity.ctimeNs) >= SETTLED_NS;
}

/** The current time in nanoseconds since 1970, comparable with a stat's ctimeNs. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Whether a value read back from a file is a well-formed identity. */
export function isFileIdentity(value: unknown): value is FileIdentity {
  if (typeof value !== "object" || value === null) return false;
  const { dev, ino, size, mtimeNs, ctimeNs } = value as Record<string, unknown>;
  const digits = (field: unknown): boolean => typeof field === "string" && /^\d+$/.test(field);
  return (
    digits(dev) &&
    digits(ino) &&
    digits(mtimeNs) &&
    digits(ctimeNs) &&
    Number.isSafeInteger(size) &&
    (size as number) >= 0
  );
}
