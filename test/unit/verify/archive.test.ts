/**
 * scanArchive reads tar, tar.gz, tar.xz, tar.bz2 and zip (and archives inside them), and lists the
 * programs inside with what `file` would call them; the ELF OS/ABI byte keeps FreeBSD programs off
 * Linux.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { peek } from "../../../src/layer/decompress.js";
import { Platform } from "../../../src/oci/platform.js";
import { HEAD_BYTES, scanArchive } from "../../../src/verify/archive.js";
import { classifyProgram, runsOn } from "../../../src/verify/elf.js";
import { goProgram } from "../../support/go-programs.js";
import { tempDir } from "../../support/tmp.js";
import { run } from "../../support/tools.js";
import { zipArchive } from "../../support/zip-file.js";

async function scanFile(path: string): Promise<Awaited<ReturnType<typeof scanArchive>>> {
  const { head, rest } = await peek(createReadStream(path), HEAD_BYTES);
  return scanArchive(head, rest, { file: path });
}

describe("scanArchive", () => {
  it("finds the arm64 program in tar, tar.gz, tar.xz and tar.bz2, and in a jar inside a tarball", async () => {
    const work = await tempDir("polypack-archive-");
    await mkdir(join(work, "pkg", "bin"), { recursive: true });
    await copyFile(await goProgram("arm64"), join(work, "pkg", "bin", "tool"));
    await writeFile(join(work, "pkg", "README"), "not a program\n");
    await writeFile(
      join(work, "pkg", "native.jar"),
      zipArchive({ "linux-x86_64/libjni.so": await readFile(await goProgram("amd64")) }),
    );
    const cases: [string, string[]][] = [
      ["a.tar", ["-cf"]],
      ["a.tar.gz", ["-czf"]],
      ["a.tar.xz", ["-cJf"]],
      ["a.tar.bz2", ["-cjf"]],
    ];
    for (const [name, flags] of cases) {
      const archive = join(work, name);
      await run("tar", [...flags, archive, "-C", work, "pkg"]);
      const scan = await scanFile(archive);
      assert.ok(scan, name);
      assert.equal(scan.problem, undefined, `${name}: ${scan.problem}`);
      const programs = scan.programs.map((p) => [
        p.path,
        p.kind.kind === "elf" ? p.kind.elf.architecture : "",
      ]);
      assert.deepEqual(
        programs.sort(),
        [
          ["pkg/bin/tool", "arm64"],
          ["pkg/native.jar!linux-x86_64/libjni.so", "amd64"],
        ],
        name,
      );
    }
    assert.match(await run("file", ["-b", join(work, "pkg", "bin", "tool")]), /aarch64/);
  });

  it("leaves a gzip file that holds no tar alone", async () => {
    const work = await tempDir("polypack-archive-");
    const path = join(work, "notes.gz");
    await writeFile(join(work, "notes"), "just text\n".repeat(100));
    await run("gzip", ["-k", join(work, "notes")]);
    assert.equal(await scanFile(path), undefined);
  });
});

describe("runsOn and the ELF OS/ABI byte", () => {
  it("refuses a FreeBSD amd64 program on linux/amd64", async () => {
    const head = Buffer.from((await readFile(await goProgram("amd64"))).subarray(0, 64));
    assert.equal(runsOn(classifyProgram(head), Platform.parse("linux/amd64")), true);
    head[7] = 9; // ELFOSABI_FREEBSD
    assert.equal(runsOn(classifyProgram(head), Platform.parse("linux/amd64")), false);
  });
});
