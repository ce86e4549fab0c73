/**
 * Scanning a layer from the tar its writer produces (LayerOptions.tarTap) instead of reading the
 * written blob back: the scan must be the one a reader of the blob gets, a scan that fails must not
 * stall the writer, and verification must act on the tapped scan.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { describe, it } from "node:test";
import fc from "fast-check";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { LayerSpool } from "../../../src/image/spool.js";
import type { LayerEntry } from "../../../src/layer/entry.js";
import { scanLayer, scanLayerTar, sharedScans, type LayerScan } from "../../../src/verify/image-tree.js";
import { makeSboms } from "../../../src/sbom/sbom.js";
import { verifyArtifact } from "../../../src/verify/verify.js";
import { goProgram } from "../../support/go-programs.js";
import { tempDir } from "../../support/tmp.js";

async function spool(): Promise<LayerSpool> {
  return LayerSpool.create(`${await tempDir("polypack-layer-scan-")}/out`);
}

async function programEntry(path: string, source: string): Promise<LayerEntry> {
  const { size } = await stat(source);
  return { path, type: "file", mode: 0o755, size, open: () => createReadStream(source), file: source };
}

// Each kind under its own folder, so no entry needs another to be a folder it is not.
const entryArbitrary: fc.Arbitrary<LayerEntry> = fc.oneof(
  fc.record({
    path: fc.stringMatching(/^f\/[a-z]{1,8}$/),
    type: fc.constant("file" as const),
    content: fc.uint8Array({ maxLength: 3000 }),
  }),
  fc.record({
    path: fc.stringMatching(/^w\/(\.wh\.[a-z]{1,4}|\.wh\.\.wh\.\.opq)$/),
    type: fc.constant("file" as const),
    content: fc.constant(""),
  }),
  fc.record({ path: fc.stringMatching(/^d\/[a-z]{1,8}$/), type: fc.constant("directory" as const) }),
  fc.record({
    path: fc.stringMatching(/^l\/[a-z]{1,8}$/),
    type: fc.constant("symlink" as const),
    linkname: fc.stringMatching(/^\/?[a-z]{1,8}$/),
  }),
);

describe("scanning a layer as it is written", () => {
  it("gives the scan a reader of the written blob gets, whatever the entries", async () => {
    const layers = await spool();
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entryArbitrary, { selector: (e) => e.path, maxLength: 12 }),
        fc.constantFrom("gzip" as const, "none" as const),
        async (entries, compression) => {
          const scanner = scanLayerTar("tapped");
          const layer = await layers.write(entries, { compression, tarTap: scanner.input });
          const tapped = await scanner.result;
          const read = await scanLayer(await layer.open(), "read back");
          assert.deepEqual(tapped, read);
          assert.equal(tapped.problem, undefined);
        },
      ),
      { numRuns: 40 },
    );
    await layers.remove();
  });

  it("keeps the writer going when the scan fails part way, and says why", async () => {
    const layers = await spool();
    const huge = "x".repeat(1024 * 1024 + 1);
    const scanner = scanLayerTar("tapped");
    const layer = await layers.write(
      [
        { path: "cnb/buildpacks/a/1.0.0/buildpack.toml", type: "file", content: huge },
        // Large enough that the writer fills the tap while the scan has given up.
        { path: "cnb/buildpacks/a/1.0.0/zz", type: "file", content: Buffer.alloc(8 * 1024 * 1024, 7) },
      ],
      { tarTap: scanner.input },
    );
    const scan = await scanner.result;
    assert.match(scan.problem ?? "", /buildpack\.toml has 1048577 bytes/);
    assert.equal(layer.written.uncompressedSize > 8 * 1024 * 1024, true);
    await layers.remove();
  });

  it("verifies from the tapped scan without opening the layer", async () => {
    const layers = await spool();
    const amd64 = await goProgram("amd64");
    const scanner = scanLayerTar("tapped");
    const layer = await layers.write([await programEntry("bin/run", amd64)], { tarTap: scanner.input });
    const image = mutateImage(emptyImage({ os: "linux", architecture: "arm64" }), { add: [{ layer }] });
    const scans = new Map<string, Promise<LayerScan>>([[layer.descriptor.digest, scanner.result]]);
    // The scan is what counts: the blob is gone, so reading it back would fail differently.
    await layers.remove();
    const report = await verifyArtifact(image, { name: "tapped", scans });
    assert.equal(report.ok, false);
    assert.equal(report.findings.length, 1, JSON.stringify(report.findings));
    assert.match(report.findings[0]!.subject, /bin\/run/);
    assert.match(report.findings[0]!.found, /amd64/);
  });

  it("shares one read of each layer between verify and the SBOMs (sharedScans)", async () => {
    const layers = await spool();
    const amd64 = await goProgram("amd64");
    const written = await layers.write([
      await programEntry("cnb/buildpacks/a/1.0.0/bin/build", amd64),
      {
        path: "cnb/buildpacks/a/1.0.0/buildpack.toml",
        type: "file",
        content:
          'api = "0.10"\n[buildpack]\nid = "a"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\narch = "amd64"\n',
      },
    ]);
    let opens = 0;
    const counted = { ...written, open: () => (opens++, written.open()) };
    const image = mutateImage(emptyImage({ os: "linux", architecture: "amd64" }), {
      add: [{ layer: counted }],
    });
    const scans = sharedScans(await image.layers());
    const report = await verifyArtifact(image, { name: "shared", scans });
    assert.equal(report.ok, true, JSON.stringify(report.findings));
    const [sbom] = await makeSboms(image, { name: "shared", scans });
    assert.match(sbom!.cyclonedx, /"a"/);
    assert.equal(opens, 1, "the layer is read once for both");
    assert.equal(sharedScans([]).get("sha256:none"), undefined, "an unknown layer is left to its reader");
    await layers.remove();
  });
});
