/**
 * Rewrites the numeric fields of ustar headers the way Go's archive/tar writes them, which is what
 * pack, the lifecycle and other CNB tools produce: zero-padded octal filling the field up to one
 * NUL (tar-stream ends them with a space and a NUL), and the checksum as six digits, NUL, space.
 * With this, a layer polypack writes for the same files is byte-for-byte the layer pack writes.
 */

const BLOCK = 512;

/** [offset, width] of each numeric field Go writes as width-1 octal digits and a NUL. */
const OCTAL_FIELDS: readonly (readonly [number, number])[] = [
  [100, 8], // mode
  [108, 8], // uid
  [116, 8], // gid
  [124, 12], // size
  [136, 12], // mtime
  [329, 8], // devmajor
  [337, 8], // devminor
];
const CHECKSUM_OFFSET = 148;

/** Reads an octal field, or undefined when it uses the base-256 form (left untouched). */
function readOctal(header: Buffer, offset: number, width: number): number | undefined {
  if ((header[offset]! & 0x80) !== 0) return undefined;
  const text = header
    .toString("latin1", offset, offset + width)
    .replace(/[\0 ]+$/g, "")
    .replace(/^[\0 ]+/, "");
  return text === "" ? 0 : parseInt(text, 8);
}

/** Rewrites one header block in place (a copy is returned); zero blocks pass unchanged. */
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

/** The size of the data that follows a header, padded to whole blocks. */
export function paddedDataSize(header: Buffer): number {
  if (header.every((byte) => byte === 0)) return 0;
  const size = readOctal(header, 124, 12) ?? Number(header.readBigUInt64BE(124 + 4));
  return Math.ceil(size / BLOCK) * BLOCK;
}

/**
 * Passes a tar stream through, rewriting every header block with goStyleHeader. The stream must
 * start at a header (a whole archive, or a run of entries cut at an entry boundary).
 */
export async function* withGoHeaders(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dataLeft = 0;
  for await (let chunk of source) {
    while (chunk.length > 0) {
      if (dataLeft > 0) {
        const take = Math.min(dataLeft, chunk.length);
        yield chunk.subarray(0, take);
        dataLeft -= take;
        chunk = chunk.subarray(take);
        continue;
      }
      const take = Math.min(BLOCK - pendingBytes, chunk.length);
      pending.push(chunk.subarray(0, take));
      pendingBytes += take;
      chunk = chunk.subarray(take);
      if (pendingBytes === BLOCK) {
        const header = pending.length === 1 ? pending[0]! : Buffer.concat(pending, BLOCK);
        pending = [];
        pendingBytes = 0;
        dataLeft = paddedDataSize(header);
        yield goStyleHeader(header);
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
