/**
 * The tar encoder polypack used before it owned one: tar-stream's pack, with every header's numbers
 * rewritten the way Go's archive/tar writes them. Kept only as an oracle, so the tests can show that
 * src/layer/tar-format.ts writes exactly the bytes it did (same layers, same diffIDs).
 */
import { pack as createPack, type Header } from "tar-stream";
import type { TarHeaderFields } from "../../src/layer/tar-format.js";

const BLOCK = 512;
/** [offset, width] of each numeric field Go writes as width-1 octal digits and a NUL. */
const OCTAL_FIELDS: readonly (readonly [number, number])[] = [
  [100, 8],
  [108, 8],
  [116, 8],
  [124, 12],
  [136, 12],
  [329, 8],
  [337, 8],
];
const CHECKSUM_OFFSET = 148;

function readOctal(header: Buffer, offset: number, width: number): number | undefined {
  if ((header[offset]! & 0x80) !== 0) return undefined;
  const text = header
    .toString("latin1", offset, offset + width)
    .replace(/[\0 ]+$/g, "")
    .replace(/^[\0 ]+/, "");
  return text === "" ? 0 : parseInt(text, 8);
}

/** A tar-stream header block rewritten with Go's number formats and checksum. */
export function goStyleHeader(block: Buffer): Buffer {
  if (block.every((byte) => byte === 0)) return block;
  const header = Buffer.from(block);
  for (const [offset, width] of OCTAL_FIELDS) {
    const value = readOctal(header, offset, width);
    if (value === undefined) continue;
    header.write(value.toString(8).padStart(width - 1, "0"), offset, "latin1");
    header[offset + width - 1] = 0;
  }
  header.fill(0x20, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 8);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0"), CHECKSUM_OFFSET, "latin1");
  header[CHECKSUM_OFFSET + 6] = 0;
  header[CHECKSUM_OFFSET + 7] = 0x20;
  return header;
}

function paddedDataSize(header: Buffer): number {
  if (header.every((byte) => byte === 0)) return 0;
  const size = readOctal(header, 124, 12) ?? Number(header.readBigUInt64BE(124 + 4));
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** The tar-stream header for polypack's header fields. */
function legacyHeader(fields: TarHeaderFields): Partial<Header> & { name: string } {
  const type = { file: "file", hardlink: "link", symlink: "symlink", directory: "directory" } as const;
  return {
    name: fields.name,
    mode: fields.mode,
    uid: 0,
    gid: 0,
    uname: "",
    gname: "",
    mtime: new Date(fields.mtime * 1000),
    size: fields.size,
    type: type[fields.type],
    ...(fields.linkname !== undefined ? { linkname: fields.linkname } : {}),
    ...(fields.pax ? { pax: { ...fields.pax } } : {}),
  };
}

/** One entry for the legacy encoder: its header fields and, for files, the content. */
export interface LegacyEntry {
  fields: TarHeaderFields;
  content?: Buffer;
}

/** The archive the legacy encoder writes for these entries, in this order. */
export async function legacyTar(entries: readonly LegacyEntry[]): Promise<Buffer> {
  const pack = createPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { fields, content } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (content !== undefined) pack.entry(legacyHeader(fields), content, done);
      else pack.entry(legacyHeader(fields), done);
    });
  }
  pack.finalize();
  await collected;
  return rewriteHeaders(Buffer.concat(chunks));
}

/**
 * The header bytes the legacy encoder writes before a file's content, for sizes too big to
 * stream in a test: the pack is stopped once the header is out.
 */
export async function legacyHeaderBytes(fields: TarHeaderFields): Promise<Buffer> {
  const pack = createPack();
  pack.entry(legacyHeader(fields)).on("error", () => undefined);
  const pieces: Buffer[] = [];
  let length = 0;
  let expected = BLOCK;
  const iterator = (pack as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    while (length < expected) {
      const next = await iterator.next();
      if (next.done) throw new Error("the header ended early");
      pieces.push(next.value);
      length += next.value.length;
      const first = Buffer.concat(pieces);
      if (expected === BLOCK && length >= BLOCK && first[156] === 0x78) {
        expected = BLOCK + paddedDataSize(first.subarray(0, BLOCK)) + BLOCK;
      }
    }
  } finally {
    pack.destroy();
  }
  return rewriteHeaders(Buffer.concat(pieces).subarray(0, expected));
}

/** Every header block of an archive (or a run of entries) rewritten with goStyleHeader. */
function rewriteHeaders(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  let at = 0;
  while (at + BLOCK <= out.length) {
    const header = out.subarray(at, at + BLOCK);
    goStyleHeader(header).copy(out, at);
    at += BLOCK + paddedDataSize(header);
  }
  return out;
}
