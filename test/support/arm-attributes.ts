import { readFile, writeFile } from "node:fs/promises";

/** Tag_CPU_arch values (ARM IHI 0045) and the Tag_CPU_name a compiler writes beside them. */
const CPU_ARCH = { 6: { tag: 6, name: "6" }, 7: { tag: 10, name: "7-A" } } as const;

/**
 * Copies a 32-bit ARM ELF program to `out` with an `.ARM.attributes` section (Tag_CPU_arch for
 * ARMv`level`) where a C toolchain's linker puts one: the section's bytes, then the section header
 * table, at the end of the file. Go (1.19) writes no attributes and no ARM C toolchain is at hand,
 * so the tests add them to real Go programs; the program still runs, and `readelf -A` reads them.
 */
export async function addArmAttributes(program: string, out: string, level: 6 | 7): Promise<void> {
  const file = await readFile(program);
  const shoff = file.readUInt32LE(32);
  const shentsize = file.readUInt16LE(46);
  const shnum = file.readUInt16LE(48);
  const table = file.subarray(shoff, shoff + shentsize * shnum);
  const section = attributes(CPU_ARCH[level].tag, CPU_ARCH[level].name);
  const sectionAt = file.length;
  const tableAt = align(sectionAt + section.length, 4);
  const header = Buffer.alloc(shentsize);
  header.writeUInt32LE(0, 0); // sh_name: the empty name (readelf -A goes by the type)
  header.writeUInt32LE(0x70000003, 4); // SHT_ARM_ATTRIBUTES
  header.writeUInt32LE(sectionAt, 16);
  header.writeUInt32LE(section.length, 20);
  header.writeUInt32LE(1, 32); // sh_addralign
  const padding = Buffer.alloc(tableAt - sectionAt - section.length);
  const out_ = Buffer.concat([file, section, padding, table, header]);
  out_.writeUInt32LE(tableAt, 32);
  out_.writeUInt16LE(shnum + 1, 48);
  await writeFile(out, out_, { mode: 0o755 });
}

// Format 'A', one "aeabi" subsection with a file-scope list: Tag_CPU_name, Tag_CPU_arch, and
// Tag_ARM_ISA_use (8) = 1, as GCC writes them first.
function attributes(arch: number, name: string): Buffer {
  const list = Buffer.concat([
    Buffer.from([5]),
    Buffer.from(`${name}\0`, "latin1"),
    Buffer.from([6, arch, 8, 1]),
  ]);
  const fileScope = Buffer.alloc(5);
  fileScope[0] = 1;
  fileScope.writeUInt32LE(5 + list.length, 1);
  const vendor = Buffer.from("aeabi\0", "latin1");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(4 + vendor.length + fileScope.length + list.length);
  return Buffer.concat([Buffer.from("A"), length, vendor, fileScope, list]);
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}
