import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { createGunzip } from "node:zlib";
import { goStyleHeader } from "../../../src/layer/go-headers.js";
import { readEntryContent, readLayer } from "../../../src/layer/read-layer.js";
import { tarStream } from "../../../src/layer/tar-writer.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { CnbSource } from "../../../src/layout/cnb-source.js";
import { parseManifest } from "../../../src/oci/manifest.js";
import { Digest } from "../../../src/oci/digest.js";
import { sharedFixture } from "../../support/fixtures.js";

async function bytes(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

test("a header is rewritten with Go's field formats and a valid checksum", () => {
  const header = Buffer.alloc(512);
  header.write("file", 0);
  header.write("000644 \0", 100, "latin1");
  header.write("000000 \0", 108, "latin1");
  header.write("000000 \0", 116, "latin1");
  header.write("00000000012 ", 124, "latin1");
  header.write("00000000000 ", 136, "latin1");
  header.write("0", 156);
  const go = goStyleHeader(header);
  assert.equal(go.toString("latin1", 100, 108), "0000644\0");
  assert.equal(go.toString("latin1", 124, 136), "00000000012\0");
  assert.equal(go.toString("latin1", 154, 156), "\0 ");
  const stored = parseInt(go.toString("latin1", 148, 154), 8);
  const copy = Buffer.from(go);
  copy.fill(0x20, 148, 156);
  assert.equal(
    stored,
    copy.reduce((sum, byte) => sum + byte, 0),
  );
  assert.deepEqual(goStyleHeader(Buffer.alloc(512)), Buffer.alloc(512), "zero blocks stay zero");
});

test("every buildpack layer of pack's hello-universe.cnb is reproduced byte for byte", async () => {
  const source = await CnbSource.open(sharedFixture("pack/hello-universe.cnb"));
  const root = await source.resolve();
  const parsed = parseManifest(await source.fetchManifest(root), root.mediaType, "fixture");
  assert.equal(parsed.kind, "image");
  if (parsed.kind !== "image") return;
  for (const layer of parsed.manifest.layers) {
    const original = await bytes((await source.openBlob(layer)).pipe(createGunzip()));
    const entries: LayerEntry[] = [];
    for await (const entry of readLayer(Readable.from([original]), { compression: "none" })) {
      if (entry.type === "directory") entries.push({ path: entry.name, type: "directory", mode: entry.mode });
      else if (entry.type === "file") {
        entries.push({
          path: entry.name,
          type: "file",
          mode: entry.mode,
          content: await readEntryContent(entry, 1 << 20),
        });
      }
    }
    const ours = await bytes(tarStream(entries, { absoluteNames: true }));
    assert.equal(Digest.of(ours).toString(), Digest.of(original).toString(), `layer ${layer.digest}`);
  }
});

test("GNU tar reads archives with Go-style headers", async () => {
  const entries: LayerEntry[] = [
    { path: "/cnb/a", type: "directory" },
    { path: "/cnb/a/file", type: "file", content: "x".repeat(1000) },
    { path: `/cnb/a/${"long-name-".repeat(15)}`, type: "file", content: "long" },
  ];
  const tar = await bytes(tarStream(entries, { absoluteNames: true }));
  const { execFileSync } = await import("node:child_process");
  const listing = execFileSync("tar", ["-tvf", "-"], { input: tar }).toString();
  assert.match(listing, /cnb\/a\/file/);
  assert.match(listing, /long-name-long-name-/);
});
