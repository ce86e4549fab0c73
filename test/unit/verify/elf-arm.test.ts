/**
 * ARM v6 against v7: the level comes from `.ARM.attributes` (Tag_CPU_arch), read from a stream
 * that buffers only what it needs; real Go programs for GOARM=6 and 7, the attributes a C
 * linker would write added, checked with readelf, run under qemu, and verified inside images.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { before, describe, it } from "node:test";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { LayerSpool } from "../../../src/image/spool.js";
import { Platform } from "../../../src/oci/platform.js";
import { classifyProgram, describeProgram, runsOn, withArmLevel } from "../../../src/verify/elf.js";
import { verifyArtifact } from "../../../src/verify/verify.js";
import { addArmAttributes } from "../../support/arm-attributes.js";
import { goProgram } from "../../support/go-programs.js";
import { tempDir } from "../../support/tmp.js";
import { run } from "../../support/tools.js";

const v6 = Platform.parse("linux/arm/v6");
const v7 = Platform.parse("linux/arm/v7");

// The file in pieces of an odd size, so no table falls on a chunk boundary by luck.
function chunks(bytes: Buffer, size = 1000): AsyncIterable<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return Readable.from(pieces);
}

async function kindOf(path: string): Promise<ReturnType<typeof classifyProgram>> {
  const bytes = await readFile(path);
  return withArmLevel(classifyProgram(bytes.subarray(0, 64)), chunks(bytes));
}

describe("ARM architecture level from .ARM.attributes", () => {
  let dir: string;
  const programs: Record<"v6" | "v7", string> = { v6: "", v7: "" };
  before(async () => {
    dir = await tempDir("polypack-arm-level-");
    programs.v6 = `${dir}/hello-armv6`;
    programs.v7 = `${dir}/hello-armv7`;
    await addArmAttributes(await goProgram("arm-v6"), programs.v6, 6);
    await addArmAttributes(await goProgram("arm"), programs.v7, 7);
  });

  it("reads Tag_CPU_arch as readelf does, and the programs still run", async () => {
    assert.match(await run("readelf", ["-A", programs.v6]), /Tag_CPU_arch: v6\b/);
    assert.match(await run("readelf", ["-A", programs.v7]), /Tag_CPU_arch: v7\b/);
    for (const [level, path] of Object.entries(programs)) {
      const kind = await kindOf(path);
      assert.equal(kind.kind === "elf" ? kind.elf.armLevel : undefined, Number(level.slice(1)));
      assert.match(describeProgram(kind), new RegExp(`arm ${level} \\(\\.ARM\\.attributes\\)`));
      // `file` names the machine (it does not tell v6 from v7); qemu runs both.
      assert.match(await run("file", ["-b", path]), /ARM/);
      assert.match(await run("sh", ["-c", 'qemu-arm-static "$1" 2>&1', "sh", path]), /hello from polypack/);
    }
  });

  it("refuses a v7 program on arm/v6 and a v6 program in an arm/v7 image, passes each on its own", async () => {
    const six = await kindOf(programs.v6);
    const seven = await kindOf(programs.v7);
    assert.equal(runsOn(six, v6), true);
    assert.equal(runsOn(seven, v7), true);
    assert.equal(runsOn(seven, v6), false);
    assert.equal(runsOn(six, v7), false);
    // `linux/arm` means arm/v7.
    assert.equal(runsOn(six, Platform.parse("linux/arm")), false);
  });

  it("leaves the level unknown (and any variant allowed) for a program without attributes", async () => {
    const plain = await goProgram("arm-v6");
    assert.doesNotMatch(await run("readelf", ["-A", plain]), /Tag_CPU_arch/);
    const kind = await kindOf(plain);
    assert.equal(kind.kind === "elf" ? kind.elf.armLevel : "not elf", undefined);
    assert.equal(runsOn(kind, v6), true);
    assert.equal(runsOn(kind, v7), true);
  });

  it("stops at a cap: attributes past 1 MiB of unloaded bytes are not buffered", async () => {
    const bytes = await readFile(programs.v6);
    // 2 MiB of unloaded bytes before the attributes (and the section headers after them) leave
    // the attributes beyond what is kept, so the level is unknown rather than memory spent.
    const pad = Buffer.alloc(2 * 1024 * 1024);
    const at = readSectionOffset(bytes);
    const moved = Buffer.concat([bytes.subarray(0, at), pad, bytes.subarray(at)]);
    shiftTables(moved, pad.length, at);
    assert.match(await run("readelf", ["-A", await write(moved)]), /Tag_CPU_arch: v6/);
    const result = await withArmLevel(classifyProgram(moved.subarray(0, 64)), chunks(moved, 256));
    assert.equal(result.kind === "elf" ? result.elf.armLevel : "not elf", undefined);
  });

  it("finds the v6 program in an arm/v7 image and the v7 one in an arm/v6 image", async () => {
    const layers = await LayerSpool.create(`${dir}/layers`);
    for (const [image, program, found] of [
      [v7, programs.v6, /arm v6/],
      [v6, programs.v7, /arm v7/],
    ] as const) {
      const { size } = await stat(program);
      const layer = await layers.write([
        { path: "bin/run", type: "file", mode: 0o755, size, open: () => createReadStream(program) },
      ]);
      const artifact = mutateImage(emptyImage(image.toJSON()), { add: [{ layer }] });
      const report = await verifyArtifact(artifact, { name: "arm image" });
      assert.equal(report.ok, false, JSON.stringify(report.findings));
      assert.equal(report.findings[0]?.subject, "/bin/run");
      assert.equal(report.findings[0]?.expected, image.toString());
      assert.match(report.findings[0]?.found ?? "", found);
    }
    await layers.remove();
  });

  async function write(bytes: Buffer): Promise<string> {
    const { writeFile } = await import("node:fs/promises");
    const path = `${dir}/moved`;
    await writeFile(path, bytes);
    return path;
  }
});

// The offset of the attributes section addArmAttributes appended (the last section header's).
function readSectionOffset(bytes: Buffer): number {
  const shoff = bytes.readUInt32LE(32);
  const last = shoff + bytes.readUInt16LE(46) * (bytes.readUInt16LE(48) - 1);
  return bytes.readUInt32LE(last + 16);
}

// After `by` bytes were inserted at `at`: the section header table and every section offset
// past `at` move with them.
function shiftTables(bytes: Buffer, by: number, at: number): void {
  const shoff = bytes.readUInt32LE(32) + by;
  bytes.writeUInt32LE(shoff, 32);
  for (let i = 0; i < bytes.readUInt16LE(48); i++) {
    const entry = shoff + i * bytes.readUInt16LE(46);
    const offset = bytes.readUInt32LE(entry + 16);
    if (offset >= at) bytes.writeUInt32LE(offset + by, entry + 16);
  }
}
