import type { HeaderOptions } from "./header.js";
import type { Segment } from "./segment-plan.js";
import { packEntries, type PreparedEntry } from "./tar-writer.js";

/**
 * The uncompressed bytes of every gzip member of a layer, in archive order: each segment's tar is
 * produced on its own and cut every `memberSize` bytes. Joined, the pieces are exactly the tar one
 * pass over all entries would give. Only the piece being filled is held in memory; file contents
 * are read as the consumer asks for the next piece.
 */
export async function* memberInputs(
  prepared: readonly PreparedEntry[],
  segments: readonly Segment[],
  headerOptions: HeaderOptions,
  memberSize: number,
): AsyncGenerator<Buffer> {
  for (const segment of segments) {
    const entries = prepared.slice(segment.start, segment.end);
    const pieces: Buffer[] = [];
    let length = 0;
    for await (let chunk of packEntries(entries, headerOptions, segment.endOfArchive)) {
      while (length + chunk.length >= memberSize) {
        const take = memberSize - length;
        pieces.push(chunk.subarray(0, take));
        yield Buffer.concat(pieces, memberSize);
        pieces.length = 0;
        length = 0;
        chunk = chunk.subarray(take);
      }
      if (chunk.length > 0) {
        pieces.push(chunk);
        length += chunk.length;
      }
    }
    if (length > 0) yield Buffer.concat(pieces, length);
  }
}
