/**
 * The tar headers polypack writes, byte for byte. The bytes of a layer are its diffID, so they come
 * from this one encoder the project owns, never from a library whose upgrade could change them.
 * Numbers are written as Go's archive/tar writes them (what pack and the lifecycle produce): zero-
 * padded octal filling the field up to one NUL, the checksum as six digits, NUL, space. Names that
 * do not fit ustar go into a PAX extended header.
 *
 * `TAR_ENCODER_VERSION` names these bytes. It is part of every layer cache key and record: change
 * anything here that changes a byte, and bump it.
 */
export const TAR_ENCODER_VERSION = 1;

/** One block of a tar archive. */
export const TAR_BLOCK = 512;
/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * TAR_BLOCK);

/** The kinds of entries polypack writes. */
export type TarEntryType = "file" | "hardlink" | "symlink" | "directory";

/** What a header says. Ownership is always root with empty user and group names. */
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
  /** Owner and group ids (default 0, root). */
  uid?: number;
  gid?: number;
  /** Extra PAX records to write even when ustar could hold the entry (`size` for huge files, `{}` to force one). */
  pax?: Readonly<Record<string, string>>;
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
const LINKNAME_OFFSET = 157;
const MAGIC_OFFSET = 257;
const PREFIX_OFFSET = 345;
const USTAR_MAGIC_AND_VERSION = Buffer.from("ustar\u000000", "latin1");
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
const PAX_NAME = "PaxHeader";

type Field = readonly [offset: number, width: number];

/**
 * The header bytes of an entry: one ustar block, or a PAX header, its records padded to blocks,
 * and the ustar block after them. A ustar block is used when the name fits (split into prefix and
 * name at a `/` when longer than 100 bytes), the name and link are ASCII and the link fits, and no
 * PAX records are asked for. (A link target of up to 100 UTF-8 bytes stays in ustar whatever its
 * characters; names must be ASCII there.)
 */
export function encodeTarHeader(fields: TarHeaderFields): Buffer {
  if (fields.pax === undefined) {
    const ustar = ustarBlock(fields, fields.name, fields.linkname);
    if (ustar) return ustar;
  }
  const records = paxRecords(fields);
  const paxFields = { ...fields, type: "pax" as const, size: records.length };
  const linkname = fields.linkname ? PAX_NAME : undefined;
  const paxHeader = ustarBlock(paxFields, PAX_NAME, linkname)!;
  const entryHeader = ustarBlock(fields, PAX_NAME, linkname)!;
  const padding = Buffer.alloc(paddedLength(records.length) - records.length);
  return Buffer.concat([paxHeader, records, padding, entryHeader]);
}

/** A length rounded up to whole blocks. */
export function paddedLength(length: number): number {
  return Math.ceil(length / TAR_BLOCK) * TAR_BLOCK;
}

/** The PAX records of an entry: its path, its link target, then any extra records, each `len key=value\n`. */
function paxRecords(fields: TarHeaderFields): Buffer {
  let text = paxRecord("path", fields.name);
  if (fields.linkname) text += paxRecord("linkpath", fields.linkname);
  for (const [key, value] of Object.entries(fields.pax ?? {})) text += paxRecord(key, value);
  return Buffer.from(text, "utf8");
}

/** One PAX record; its decimal length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const length = Buffer.byteLength(body);
  let digits = String(length).length;
  if (length + digits >= 10 ** digits) digits++;
  return `${length + digits}${body}`;
}

/** A ustar block, or undefined when the name or link cannot be held by one. */
function ustarBlock(
  fields: TarHeaderFields | (Omit<TarHeaderFields, "type"> & { type: "pax" }),
  name: string,
  linkname: string | undefined,
): Buffer | undefined {
  // Directory names are written without a trailing `/`, as pack writes them.
  const split = splitName(name);
  if (!split || (linkname !== undefined && Buffer.byteLength(linkname) > LINKNAME_BYTES)) return undefined;
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(split.name, 0, "latin1");
  writeOctal(block, MODE, fields.mode & 0o7777);
  writeOctal(block, UID, fields.uid ?? 0);
  writeOctal(block, GID, fields.gid ?? 0);
  if (fields.size > MAX_OCTAL_SIZE) writeBase256(block, SIZE, fields.size);
  else writeOctal(block, SIZE, fields.size);
  writeOctal(block, MTIME, fields.mtime);
  block[TYPEFLAG_OFFSET] = TYPEFLAG[fields.type];
  if (linkname) block.write(linkname, LINKNAME_OFFSET, "utf8");
  USTAR_MAGIC_AND_VERSION.copy(block, MAGIC_OFFSET);
  writeOctal(block, DEVMAJOR, 0);
  writeOctal(block, DEVMINOR, 0);
  if (split.prefix) block.write(split.prefix, PREFIX_OFFSET, "latin1");
  writeChecksum(block);
  return block;
}

/**
 * A name cut into ustar's prefix and name fields at the earliest `/` that makes the name fit, or
 * undefined when it cannot be (non-ASCII, no usable `/`, or a prefix over 155 bytes).
 */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  let rest = name;
  let prefix = "";
  while (rest.length > NAME_BYTES) {
    const slash = rest.indexOf("/");
    if (slash < 0) return undefined;
    prefix += prefix ? `/${rest.slice(0, slash)}` : rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  return prefix.length > PREFIX_BYTES ? undefined : { name: rest, prefix };
}

function isAscii(text: string): boolean {
  return Buffer.byteLength(text) === text.length;
}

function writeOctal(block: Buffer, [offset, width]: Field, value: number): void {
  block.write(value.toString(8).padStart(width - 1, "0"), offset, "latin1");
  block[offset + width - 1] = 0;
}

/** GNU's base-256 number: a set high bit, then the value big-endian in the rest of the field. */
function writeBase256(block: Buffer, [offset, width]: Field, value: number): void {
  block[offset] = 0x80;
  let rest = value;
  for (let i = width - 1; i > 0; i--) {
    block[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
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
