/**
 * The tar headers polypack writes, byte for byte. The bytes of a layer are its diffID, so they come
 * from this one encoder the project owns, never from a library whose upgrade could change them.
 * They are the bytes Go's archive/tar writer (what pack and the lifecycle use) writes for a header
 * whose format it chooses itself: a ustar block when ustar can hold the entry (a long ASCII name
 * split into prefix and name where Go splits it), else a PAX header named and filled as Go fills
 * it, followed by the entry's own block.
 *
 * `TAR_ENCODER_VERSION` names these bytes. It is part of every layer cache key and record: change
 * anything here that changes a byte, and bump it.
 */
export const TAR_ENCODER_VERSION = 2;

/** One block of a tar archive. */
export const TAR_BLOCK = 512;
/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK);

/** The kinds of entries polypack writes. */
export type TarEntryType = "file" | "hardlink" | "symlink" | "directory";

/** What a header says. Ownership is root unless `uid`/`gid` say otherwise; user and group names are empty. */
export interface TarHeaderFields {
  /** The name as written (already with a leading `/` when absolute names are wanted). */
  name: string;
  type: TarEntryType;
  /** Permission bits. */
  mode: number;
  /** Content bytes (files only). */
  size: number;
  /** Whole seconds since 1970. */
  mtime: number;
  /** Link target (links only). */
  linkname?: string;
  /** Owner and group ids (default 0, root); at most 2097151, what ustar's octal fields hold. */
  uid?: number;
  gid?: number;
}

const TYPEFLAG: Record<TarEntryType | "pax", number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  directory: 0x35,
  pax: 0x78,
};
const NAME_BYTES = 100;
const PREFIX_BYTES = 155;
const LINKNAME_BYTES = 100;
/** [offset, width] of the numeric fields, written as width-1 octal digits and a NUL. */
const MODE: Field = [100, 8];
const UID: Field = [108, 8];
const GID: Field = [116, 8];
const SIZE: Field = [124, 12];
const MTIME: Field = [136, 12];
const DEVMAJOR: Field = [329, 8];
const DEVMINOR: Field = [337, 8];
const CHECKSUM_OFFSET = 148;
const TYPEFLAG_OFFSET = 156;
const NAME: Field = [0, NAME_BYTES];
const LINKNAME: Field = [157, LINKNAME_BYTES];
const MAGIC_OFFSET = 257;
const PREFIX: Field = [345, PREFIX_BYTES];
const USTAR_MAGIC_AND_VERSION = Buffer.from("ustar\u000000", "latin1");
/** Go's `fitsInOctal` for the 12-byte fields: 11 octal digits. */
const MAX_OCTAL_12 = 8 ** 11 - 1;
/** The folder Go puts a PAX header's own name in, beside the entry's name. */
const PAX_FOLDER = "PaxHeaders.0";

type Field = readonly [offset: number, width: number];

/**
 * The header bytes of an entry, as Go's `Writer.WriteHeader` writes a header of unknown format:
 * Go's `allowedFormats` decides whether ustar can hold it (ASCII name that fits or splits, ASCII
 * link of at most 100 bytes, size under 8 GiB); if not, `writePAXHeader` writes the PAX records
 * Go would (sorted: `linkpath`, `path`, `size`, each only when ustar cannot hold that field), then
 * the entry's own block with ASCII-only, truncated name and link and no prefix.
 */
export function encodeTarHeader(fields: TarHeaderFields): Buffer {
  const records = new Map<string, string>();
  let ustar = true;
  const { name, linkname = "" } = fields;
  if (!isAscii(name) || name.length > NAME_BYTES) {
    if (splitUstarPath(name) === undefined) ustar = false;
    records.set("path", name);
  }
  if (!isAscii(linkname) || linkname.length > LINKNAME_BYTES) {
    ustar = false;
    records.set("linkpath", linkname);
  }
  if (fields.size > MAX_OCTAL_12) {
    ustar = false;
    records.set("size", String(fields.size));
  }
  if (ustar) return ustarBlock(fields);
  const text = [...records.keys()]
    .sort()
    .map((key) => paxRecord(key, records.get(key)!))
    .join("");
  const data = Buffer.from(text, "utf8");
  const padding = Buffer.alloc(paddedLength(data.length) - data.length);
  return Buffer.concat([paxHeaderBlock(name, data.length), data, padding, paxEntryBlock(fields)]);
}

/** A length rounded up to whole blocks. */
export function paddedLength(length: number): number {
  return Math.ceil(length / TAR_BLOCK) * TAR_BLOCK;
}

/** One PAX record, as Go's `formatPAXRecord` writes it; its decimal length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const length = Buffer.byteLength(body);
  let digits = String(length).length;
  if (length + digits >= 10 ** digits) digits++;
  return `${length + digits}${body}`;
}

/** Go's `writeUSTARHeader`: the name split into prefix and name when it is longer than 100 bytes. */
function ustarBlock(fields: TarHeaderFields): Buffer {
  const split = splitUstarPath(fields.name);
  const block = v7Block(fields, split ? split.name : fields.name, fields.linkname ?? "");
  if (split) writeString(block, PREFIX, split.prefix);
  finishBlock(block);
  return block;
}

/** The entry's own block after a PAX header (Go's `templateV7Plus` with `toASCII` strings). */
function paxEntryBlock(fields: TarHeaderFields): Buffer {
  const block = v7Block(fields, toAscii(fields.name), toAscii(fields.linkname ?? ""));
  finishBlock(block);
  return block;
}

/** Go's `templateV7Plus` for entries with empty user and group names. */
function v7Block(fields: TarHeaderFields, name: string, linkname: string): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  block[TYPEFLAG_OFFSET] = TYPEFLAG[fields.type];
  writeString(block, NAME, name);
  writeString(block, LINKNAME, linkname);
  writeOctal(block, MODE, fields.mode & 0o7777);
  writeOctal(block, UID, fields.uid ?? 0);
  writeOctal(block, GID, fields.gid ?? 0);
  writeOctal(block, SIZE, fields.size);
  writeOctal(block, MTIME, fields.mtime);
  writeOctal(block, DEVMAJOR, 0);
  writeOctal(block, DEVMINOR, 0);
  return block;
}

/**
 * The extended header's own block, as Go's `writeRawFile` writes it: named
 * `<dir>/PaxHeaders.0/<base>` (ASCII only, cut at 100 bytes, trailing slashes dropped), mode,
 * ids and mtime zero, and the device fields left empty.
 */
function paxHeaderBlock(entryName: string, size: number): Buffer {
  const slash = entryName.lastIndexOf("/");
  let name = toAscii(goCleanJoin(entryName.slice(0, slash + 1), PAX_FOLDER, entryName.slice(slash + 1)));
  if (name.length > NAME_BYTES) name = name.slice(0, NAME_BYTES);
  name = name.replace(/\/+$/, "");
  const block = Buffer.alloc(TAR_BLOCK);
  block[TYPEFLAG_OFFSET] = TYPEFLAG.pax;
  writeString(block, NAME, name);
  writeOctal(block, MODE, 0);
  writeOctal(block, UID, 0);
  writeOctal(block, GID, 0);
  writeOctal(block, SIZE, size);
  writeOctal(block, MTIME, 0);
  finishBlock(block);
  return block;
}

/** The magic, version and checksum (Go's `setFormat` for ustar and PAX). */
function finishBlock(block: Buffer): void {
  USTAR_MAGIC_AND_VERSION.copy(block, MAGIC_OFFSET);
  writeChecksum(block);
}

/**
 * Go's `splitUSTARPath`: for an ASCII name over 100 bytes, the last `/` within the first 156 bytes
 * (not a trailing one) splits it, when the name part is 1 to 100 bytes and the prefix at most 155
 * and not empty.
 */
function splitUstarPath(name: string): { name: string; prefix: string } | undefined {
  if (name.length <= NAME_BYTES || !isAscii(name)) return undefined;
  let length = name.length;
  if (length > PREFIX_BYTES + 1) length = PREFIX_BYTES + 1;
  else if (name[length - 1] === "/") length--;
  const i = name.lastIndexOf("/", length - 1);
  const suffixLength = name.length - i - 1;
  if (i <= 0 || suffixLength > NAME_BYTES || suffixLength === 0 || i > PREFIX_BYTES) return undefined;
  return { prefix: name.slice(0, i), name: name.slice(i + 1) };
}

/** Go's `path.Join` of clean parts: empty parts dropped, `//` collapsed, no trailing `/`. */
function goCleanJoin(...parts: string[]): string {
  const joined = parts.filter((part) => part !== "").join("/");
  const absolute = joined.startsWith("/");
  const segments = joined.split("/").filter((segment) => segment !== "" && segment !== ".");
  return `${absolute ? "/" : ""}${segments.join("/")}`;
}

function isAscii(text: string): boolean {
  return Buffer.byteLength(text) === text.length;
}

/** Go's `toASCII`: the text without its non-ASCII characters and NULs. */
function toAscii(text: string): string {
  return isAscii(text) && !text.includes("\0")
    ? text
    : [...text].filter((c) => c < "\u0080" && c !== "\0").join("");
}

/**
 * Go's `formatString`: the text copied into the field (cut at its width), NUL-terminated when
 * shorter; a cut that ends in `/` has its trailing slashes replaced by NUL.
 */
function writeString(block: Buffer, [offset, width]: Field, text: string): void {
  const bytes = Buffer.from(text, "latin1");
  bytes.copy(block, offset, 0, Math.min(width, bytes.length));
  if (bytes.length < width) block[offset + bytes.length] = 0;
  if (bytes.length > width && block[offset + width - 1] === 0x2f) {
    const kept = text.slice(0, width).replace(/\/+$/, "").length;
    block[offset + kept] = 0;
  }
}

/** Go's `formatOctal`: zero-padded octal and a NUL; a value that does not fit is written as 0. */
function writeOctal(block: Buffer, [offset, width]: Field, value: number): void {
  const fits = value >= 0 && value < 8 ** (width - 1);
  block.write((fits ? value : 0).toString(8).padStart(width - 1, "0"), offset, "latin1");
  block[offset + width - 1] = 0;
}

/** The header checksum: the sum of its bytes with the checksum field as spaces, as Go writes it. */
function writeChecksum(block: Buffer): void {
  block.fill(0x20, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 8);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0"), CHECKSUM_OFFSET, "latin1");
  block[CHECKSUM_OFFSET + 6] = 0;
  block[CHECKSUM_OFFSET + 7] = 0x20;
}
