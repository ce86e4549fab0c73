import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Platform } from "../../../src/oci/platform.js";
import { classifyProgram, describeProgram, runsOn } from "../../../src/verify/elf.js";

function elfHead(bits: 1 | 2, data: 1 | 2, machine: number, type = 2): Uint8Array {
  const head = new Uint8Array(64);
  head.set([0x7f, 0x45, 0x4c, 0x46, bits, data, 1, 0]);
  const view = new DataView(head.buffer);
  view.setUint16(16, type, data === 1);
  view.setUint16(18, machine, data === 1);
  return head;
}

const amd64 = Platform.parse("linux/amd64");
const arm64 = Platform.parse("linux/arm64");

describe("classifyProgram", () => {
  it("names the architecture from machine, class and byte order", () => {
    const cases: [Uint8Array, string][] = [
      [elfHead(2, 1, 62), "amd64"],
      [elfHead(2, 1, 183), "arm64"],
      [elfHead(1, 1, 40), "arm"],
      [elfHead(2, 1, 21), "ppc64le"],
      [elfHead(2, 2, 21), "ppc64"],
      [elfHead(2, 2, 22), "s390x"],
      [elfHead(1, 1, 3), "386"],
    ];
    for (const [head, arch] of cases) {
      const kind = classifyProgram(head);
      assert.equal(kind.kind, "elf");
      assert.equal(kind.kind === "elf" ? kind.elf.architecture : "", arch);
    }
  });

  it("reads this machine's own /bin/sh as the host architecture", () => {
    const kind = classifyProgram(readFileSync("/bin/sh").subarray(0, 64));
    const host = process.arch === "x64" ? "amd64" : process.arch;
    assert.equal(kind.kind === "elf" ? kind.elf.architecture : undefined, host);
    assert.equal(runsOn(kind, Platform.parse(`linux/${host}`)), true);
  });

  it("tells x86-64 from arm64 and refuses the other", () => {
    assert.equal(runsOn(classifyProgram(elfHead(2, 1, 62)), amd64), true);
    assert.equal(runsOn(classifyProgram(elfHead(2, 1, 62)), arm64), false);
    assert.equal(runsOn(classifyProgram(elfHead(2, 1, 183)), arm64), true);
    assert.equal(runsOn(classifyProgram(elfHead(2, 1, 9999)), arm64), false);
  });

  it("treats Mach-O and PE as foreign on linux, scripts and data as portable", () => {
    assert.deepEqual(classifyProgram(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1])), {
      kind: "foreign",
      format: "mach-o",
    });
    assert.equal(runsOn(classifyProgram(Buffer.from("MZ\x90\x00")), amd64), false);
    const script = classifyProgram(Buffer.from("#!/usr/bin/env bash\necho\n"));
    assert.deepEqual(script, { kind: "script", interpreter: "/usr/bin/env" });
    assert.equal(runsOn(script, arm64), true);
    assert.equal(classifyProgram(Buffer.from("hello")).kind, "data");
    // A Java class file shares Mach-O fat's magic; its version number tells them apart.
    assert.equal(classifyProgram(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61])).kind, "data");
    assert.match(describeProgram(classifyProgram(elfHead(2, 1, 183))), /64-bit LSB arm64/);
  });
});
