import { createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isPolypackError } from "../errors.js";
import { isNetworkError, isTemporary } from "../http/errors.js";
import { retrying } from "../http/retry.js";
import type { RegistryLocation } from "../oci/content.js";
import type { Descriptor } from "../oci/descriptor.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";
import type { RegistryClient } from "./client.js";

// What a second GET may cure: a body cut short or altered on the way, or a dropped connection.
const REFETCH_CODES = ["DIGEST_MISMATCH", "SIZE_MISMATCH", "SIZE_EXCEEDED"];

/** Whether a failed blob read is worth a fresh GET. */
export function isRefetchable(error: unknown): boolean {
  return (
    isTemporary(error) || isNetworkError(error) || REFETCH_CODES.some((code) => isPolypackError(error, code))
  );
}

/**
 * Reads a blob from a registry into a temporary file, verified against its descriptor, and returns a
 * stream of that file. A body that breaks off, or whose size or digest is wrong, is fetched again
 * with the transport's backoff, a bounded number of times. Nothing that did not verify reaches the
 * reader, so destinations that cannot ask twice (layouts, .cnb files) get the same second chance as
 * uploads, which re-open their source. The file is unlinked as soon as it is open, so nothing is
 * left behind whatever happens to the reader.
 */
export async function openSpooledBlob(
  client: RegistryClient,
  location: RegistryLocation,
  descriptor: Descriptor,
): Promise<Readable> {
  const dir = await mkdtemp(join(tmpdir(), "polypack-blob-"));
  try {
    const path = join(dir, "blob");
    const { retryPolicy, clock } = client.transport;
    await retrying(
      retryPolicy,
      clock,
      async () => pipeline(await client.openBlob(location, descriptor), createWriteStream(path)),
      isRefetchable,
    );
    const handle = await open(path, "r");
    return handle.createReadStream({ highWaterMark: STREAM_CHUNK_BYTES });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
