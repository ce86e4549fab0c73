import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { LayerEntry } from "../layer/entry.js";
import { writeTar } from "../layer/tar-writer.js";
import { writeWithAtomic } from "../util/fs.js";
import { blobRelativePath, INDEX_FILE, OCI_LAYOUT_FILE } from "./layout-files.js";
import type { OciLayout } from "./oci-layout.js";
import { STREAM_CHUNK_BYTES } from "../oci/verify.js";

/**
 * Writes a layout directory as a `.cnb` archive the way pack does: names with a leading `/`,
 * mode 0755 on every entry, root ownership, the fixed mtime, entries sorted, so the same content
 * always gives the same bytes. Only the layout's own files go in (no temporary files), and the
 * archive appears at `output` only once complete.
 */
export async function writeLayoutArchive(layout: OciLayout, output: string): Promise<void> {
  const entries: LayerEntry[] = [];
  const streamed = async (path: string, diskPath: string): Promise<LayerEntry> => ({
    path,
    type: "file",
    exactMode: 0o755,
    size: (await stat(diskPath)).size,
    open: () => createReadStream(diskPath, { highWaterMark: STREAM_CHUNK_BYTES }),
    file: diskPath,
  });
  const digests = await layout.listBlobs();
  if (digests.length > 0) entries.push({ path: "blobs", type: "directory" });
  for (const algorithm of new Set(digests.map((digest) => digest.algorithm))) {
    entries.push({ path: `blobs/${algorithm}`, type: "directory" });
  }
  for (const digest of digests) {
    entries.push(await streamed(blobRelativePath(digest), layout.blobPath(digest)));
  }
  for (const name of [INDEX_FILE, OCI_LAYOUT_FILE]) {
    entries.push(await streamed(name, join(layout.path, name)));
  }
  await writeWithAtomic(output, (file) => writeTar(file, entries, { absoluteNames: true }));
}
