import { PolypackError } from "../errors/index.js";
import { TAR_BLOCK, paddedLength } from "../layer/tar-format.js";

// PAX and GNU long-name records are a few hundred bytes; more is not a layer pack would write.
const MAX_META_BYTES = 1024 * 1024;

/**
 * The bytes of a tar stream, entry by entry, exactly as stored: each entry's PAX or GNU long-name
 * blocks, its header, data and padding, copied when `keep(name)` says so and skipped otherwise. The
 * closing zero blocks are left off, so the entries of several tars concatenate into one archive
 * (pack's flattening copies entries the same way). `name` is the entry's full name: a PAX `path`,
 * a GNU long name, or the ustar prefix and name joined.
 */
export async function* rawTarEntries(
  source: AsyncIterable<Uint8Array>,
  keep: (name: string) => boolean,
  context: string,
): AsyncGenerator<Buffer> {
  const reader = new BlockReader(source);
  const invalid = (why: string): PolypackError =>
    new PolypackError("LAYER_INVALID", `${context} is not a valid tar archive: ${why}`);
  let meta: Buffer[] = [];
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  for (;;) {
    const header = await reader.read(TAR_BLOCK);
    if (header === undefined || header.every((byte) => byte === 0)) {
      // The rest is the closing blocks; read to the end, so a caller hashing the stream sees it all.
      for await (const _chunk of reader.pass(Number.MAX_SAFE_INTEGER)) continue;
      return;
    }
    if (header.length < TAR_BLOCK) throw invalid("it ends inside a header");
    const type = String.fromCharCode(header[156]!);
    const size = paxSize ?? headerSize(header, invalid);
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      if (size > MAX_META_BYTES) throw invalid(`a ${type} record of ${size} bytes`);
      const data = await reader.read(paddedLength(size));
      if (data === undefined || data.length < paddedLength(size)) throw invalid("it ends inside an entry");
      meta.push(header, data);
      const body = data.subarray(0, size);
      if (type === "x") ({ path: paxPath, size: paxSize } = paxRecords(body, paxPath, paxSize, invalid));
      if (type === "L") longName = cString(body);
      continue;
    }
    const name = paxPath ?? longName ?? ustarName(header);
    const kept = keep(name);
    if (kept) yield* [...meta, header];
    meta = [];
    longName = paxPath = paxSize = undefined;
    // As Go's reader: links, devices, directories and fifos carry no data whatever their size says.
    const dataBytes = "123456".includes(type) ? 0 : paddedLength(size);
    for await (const chunk of reader.pass(dataBytes)) if (kept) yield chunk;
    if (reader.short) throw invalid("it ends inside an entry");
  }
}

function headerSize(header: Buffer, invalid: (why: string) => Error): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    // Base-256, as Go writes sizes over 8 GiB: big-endian after the marker bit.
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw invalid("an entry size beyond 2^53");
    return value;
  }
  const text = cString(field).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(`an entry size field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 263).toString("latin1");
  const prefix = magic === "ustar\0" ? cString(header.subarray(345, 500)) : "";
  return prefix === "" ? name : `${prefix}/${name}`;
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString("utf8");
}

/** The `path` and `size` records of a PAX header (`<length> <key>=<value>\n` each). */
function paxRecords(
  body: Buffer,
  path: string | undefined,
  size: number | undefined,
  invalid: (why: string) => Error,
): { path: string | undefined; size: number | undefined } {
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = Number(body.subarray(at, space).toString("latin1"));
    if (space === -1 || !Number.isInteger(length) || length <= space - at || at + length > body.length) {
      throw invalid("a malformed PAX record");
    }
    const record = body.subarray(space + 1, at + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") path = value;
    if (key === "size") {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalid("a PAX size");
      size = Number(value);
    }
    at += length;
  }
  return { path, size };
}

/** Reads a byte stream in exact pieces, or passes a run of it through chunk by chunk. */
class BlockReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Whether the last `pass` ran out of bytes before its count. */
  short = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `count` bytes, fewer at the end of the stream, or undefined when nothing is left. */
  async read(count: number): Promise<Buffer | undefined> {
    while (this.pending.length < count && !this.ended) await this.fill();
    if (this.pending.length === 0) return undefined;
    const piece = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(piece.length);
    return piece;
  }

  /** The next `count` bytes in the chunks they arrive in. */
  async *pass(count: number): AsyncGenerator<Buffer> {
    let left = count;
    this.short = false;
    while (left > 0) {
      if (this.pending.length === 0) {
        if (this.ended) {
          this.short = true;
          return;
        }
        await this.fill();
        continue;
      }
      const piece = this.pending.subarray(0, left);
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  private async fill(): Promise<void> {
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }
}
