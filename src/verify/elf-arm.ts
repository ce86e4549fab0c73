/**
 * The ARM architecture level (5, 6, 7, 8 ...) a 32-bit ARM ELF file was built for, as its
 * `.ARM.attributes` section tells (Tag_CPU_arch): the ELF header names only "ARM", so v6 and v7
 * programs look alike there. Read from a stream, keeping only the bytes that can hold the answer.
 */

/** The largest stretch of a file kept while looking for the attributes (past its loaded segments). */
const MAX_TAIL_BYTES = 1024 * 1024;
/** Larger section or program header tables, or attribute sections, are not believed. */
const MAX_TABLE_BYTES = 256 * 1024;

const SHT_ARM_ATTRIBUTES = 0x70000003;
const PT_LOAD = 1;

/** A stretch of the file wanted, filled as the stream passes it. */
interface Wanted {
  start: number;
  bytes: Buffer;
  filled: number;
}

/**
 * Reads a 32-bit little-endian ARM ELF file's content (from its first byte) far enough to find
 * Tag_CPU_arch, and returns the architecture level, or undefined when the file has no attributes
 * (Go writes none) or they cannot be read within the caps. Buffers the header tables, the
 * attributes section, and at most MAX_TAIL_BYTES after the loaded segments (where the linker puts
 * non-loaded sections when the section headers come last); stops reading as soon as it knows.
 */
export async function readArmLevel(content: AsyncIterable<Uint8Array>): Promise<number | undefined> {
  const header: Wanted = want(0, 52);
  const ranges: Wanted[] = [header];
  let phdrs: Wanted | undefined;
  let shdrs: Wanted | undefined;
  let attributes: Wanted | undefined;
  let tail: Wanted | undefined;
  let position = 0;
  let shoff = 0;
  for await (const chunk of content) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const range of ranges) fill(range, bytes, position);
    position += bytes.length;
    if (complete(header) && phdrs === undefined) {
      const h = header.bytes;
      const phoff = h.readUInt32LE(28);
      shoff = h.readUInt32LE(32);
      const phsize = h.readUInt16LE(42) * h.readUInt16LE(44);
      const shsize = h.readUInt16LE(46) * h.readUInt16LE(48);
      if (h.readUInt16LE(46) < 40 || shsize === 0 || shsize > MAX_TABLE_BYTES || phsize > MAX_TABLE_BYTES) {
        return undefined;
      }
      phdrs = add(ranges, want(phoff, phsize), bytes, position);
      shdrs = add(ranges, want(shoff, shsize), bytes, position);
    }
    if (phdrs !== undefined && complete(phdrs) && tail === undefined) {
      const end = loadedEnd(phdrs.bytes, header.bytes.readUInt16LE(42));
      tail = add(ranges, want(end, Math.max(0, Math.min(MAX_TAIL_BYTES, shoff - end))), bytes, position);
    }
    if (shdrs !== undefined && complete(shdrs) && attributes === undefined) {
      const section = attributesSection(shdrs.bytes, header.bytes.readUInt16LE(46));
      if (section === undefined || section.size > MAX_TABLE_BYTES) return undefined;
      const kept = [header, phdrs, tail].find(
        (r) =>
          r !== undefined &&
          complete(r) &&
          r.start <= section.offset &&
          section.offset + section.size <= r.start + r.bytes.length,
      );
      if (kept !== undefined) {
        const from = section.offset - kept.start;
        return cpuArch(kept.bytes.subarray(from, from + section.size));
      }
      if (section.offset < position - bytes.length) return undefined; // passed, and not kept
      attributes = add(ranges, want(section.offset, section.size), bytes, position);
    }
    if (attributes !== undefined && complete(attributes)) return cpuArch(attributes.bytes);
  }
  return undefined;
}

function want(start: number, length: number): Wanted {
  return { start, bytes: Buffer.alloc(length), filled: 0 };
}

function complete(range: Wanted): boolean {
  return range.filled >= range.bytes.length;
}

// A range that starts inside the chunk just read is filled from it at once; one that started
// before it can no longer be had and stays incomplete.
function add(ranges: Wanted[], range: Wanted, chunk: Buffer, position: number): Wanted {
  ranges.push(range);
  fill(range, chunk, position - chunk.length);
  return range;
}

// Copies the part of `chunk` (which starts at file offset `at`) that falls in the range. Bytes
// arrive in order, so a range is complete when its last byte has been copied.
function fill(range: Wanted, chunk: Buffer, at: number): void {
  const from = Math.max(range.start, at);
  const to = Math.min(range.start + range.bytes.length, at + chunk.length);
  if (to <= from) return;
  if (from > range.start + range.filled) return; // a gap: bytes before `from` were missed
  chunk.copy(range.bytes, from - range.start, from - at, to - at);
  range.filled = Math.max(range.filled, to - range.start);
}

function loadedEnd(table: Buffer, entrySize: number): number {
  let end = 0;
  for (let at = 0; at + 32 <= table.length && entrySize >= 32; at += entrySize) {
    if (table.readUInt32LE(at) !== PT_LOAD) continue;
    end = Math.max(end, table.readUInt32LE(at + 4) + table.readUInt32LE(at + 16));
  }
  return end;
}

function attributesSection(table: Buffer, entrySize: number): { offset: number; size: number } | undefined {
  for (let at = 0; at + 40 <= table.length; at += entrySize) {
    if (table.readUInt32LE(at + 4) === SHT_ARM_ATTRIBUTES) {
      return { offset: table.readUInt32LE(at + 16), size: table.readUInt32LE(at + 20) };
    }
  }
  return undefined;
}

// Tag_CPU_arch values (ARM IHI 0045) to architecture levels; M- and R-profile values count by
// their version too.
const LEVELS: readonly (number | undefined)[] = [
  undefined,
  4,
  4,
  5,
  5,
  5,
  6,
  6,
  6,
  6,
  7,
  6,
  6,
  7,
  8,
  8,
  8,
  8,
  8,
  9,
];

/**
 * Tag_CPU_arch of the file scope of the "aeabi" subsection of an `.ARM.attributes` section, as an
 * architecture level; undefined when it is absent or the section is malformed.
 */
export function cpuArch(section: Buffer): number | undefined {
  if (section.length < 1 || section[0] !== 0x41) return undefined; // format version 'A'
  let at = 1;
  while (at + 4 <= section.length) {
    const length = section.readUInt32LE(at);
    if (length < 4 || at + length > section.length) return undefined;
    const end = at + length;
    const nul = section.indexOf(0, at + 4);
    if (nul < 0 || nul >= end) return undefined;
    if (section.toString("latin1", at + 4, nul) === "aeabi") return fileScopeArch(section, nul + 1, end);
    at = end;
  }
  return undefined;
}

function fileScopeArch(section: Buffer, start: number, end: number): number | undefined {
  let at = start;
  while (at + 5 <= end) {
    const tag = section[at]!;
    const size = section.readUInt32LE(at + 1);
    if (size < 5 || at + size > end) return undefined;
    if (tag === 1) return archInAttributes(section, at + 5, at + size);
    at += size;
  }
  return undefined;
}

function archInAttributes(section: Buffer, start: number, end: number): number | undefined {
  let at = start;
  while (at < end) {
    const tag = uleb(section, at);
    at = tag.next;
    if (tag.value === 6) return LEVELS[uleb(section, at).value];
    // Tags 4, 5, 65 and 67, and odd tags from 32 up, carry a NUL-terminated string; Tag_compatibility
    // (32) a number and a string; the others a number.
    if (tag.value === 32) at = uleb(section, at).next;
    if ([4, 5, 32, 65, 67].includes(tag.value) || (tag.value > 32 && tag.value % 2 === 1)) {
      const nul = section.indexOf(0, at);
      if (nul < 0 || nul >= end) return undefined;
      at = nul + 1;
    } else {
      at = uleb(section, at).next;
    }
  }
  return undefined;
}

function uleb(bytes: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let at = start;
  while (at < bytes.length && shift < 35) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  return { value, next: at };
}
