import { Platform } from "../oci/platform.js";
import { readArmLevel } from "./elf-arm.js";

/**
 * What the first bytes of a file say about the machine it runs on. `elf` carries the ELF header's
 * facts; `foreign` names formats that never run on Linux (Mach-O, PE); `script` is a `#!` file, which
 * runs wherever its interpreter does; `data` is everything else.
 */
export type ProgramKind =
  | { kind: "elf"; elf: ElfHeader }
  | { kind: "foreign"; format: "mach-o" | "pe" }
  | { kind: "script"; interpreter: string }
  | { kind: "data" };

/** The facts of an ELF header that decide where a program runs. */
export interface ElfHeader {
  /** 32 or 64 (EI_CLASS). */
  bits: 32 | 64;
  /** Byte order (EI_DATA). */
  endian: "little" | "big";
  /** e_machine, the raw number. */
  machine: number;
  /** e_type: executable, shared object (also PIE executables), relocatable or core. */
  type: "executable" | "shared" | "relocatable" | "core" | "other";
  /** EI_OSABI, raw (0 System V, 3 Linux, 9 FreeBSD ...). */
  osAbi: number;
  /** The architecture in GOARCH spelling, when the machine, class and byte order name one. */
  architecture?: string;
  /**
   * 32-bit ARM only: the architecture level (6 for ARMv6, 7 for ARMv7 ...) from `.ARM.attributes`
   * (Tag_CPU_arch), set by `withArmLevel` where the file has it; the header alone does not tell.
   */
  armLevel?: number;
}

/** How many leading bytes `classifyProgram` needs at most. */
export const PROGRAM_HEADER_BYTES = 64;

// e_machine, class and byte order to GOARCH. One machine number covers several GOARCHes that differ
// only in class or byte order (EM_PPC64 is ppc64 big-endian and ppc64le little-endian).
const MACHINES: readonly { machine: number; bits: 32 | 64; endian: "little" | "big"; arch: string }[] = [
  { machine: 62, bits: 64, endian: "little", arch: "amd64" },
  { machine: 3, bits: 32, endian: "little", arch: "386" },
  { machine: 183, bits: 64, endian: "little", arch: "arm64" },
  { machine: 40, bits: 32, endian: "little", arch: "arm" },
  { machine: 21, bits: 64, endian: "little", arch: "ppc64le" },
  { machine: 21, bits: 64, endian: "big", arch: "ppc64" },
  { machine: 22, bits: 64, endian: "big", arch: "s390x" },
  { machine: 243, bits: 64, endian: "little", arch: "riscv64" },
  { machine: 258, bits: 64, endian: "little", arch: "loong64" },
  { machine: 8, bits: 32, endian: "big", arch: "mips" },
  { machine: 8, bits: 32, endian: "little", arch: "mipsle" },
  { machine: 8, bits: 64, endian: "big", arch: "mips64" },
  { machine: 8, bits: 64, endian: "little", arch: "mips64le" },
];

const ELF_TYPES: Record<number, ElfHeader["type"]> = {
  1: "relocatable",
  2: "executable",
  3: "shared",
  4: "core",
};

/**
 * Classifies a file from its first bytes (pass at least PROGRAM_HEADER_BYTES when the file has
 * them). Pure: reading the file is the caller's business.
 */
export function classifyProgram(head: Uint8Array): ProgramKind {
  if (head.length >= 20 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    const elf = elfHeader(head);
    if (elf !== undefined) return { kind: "elf", elf };
  }
  if (head.length >= 4) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const magic = view.getUint32(0, false);
    // Mach-O thin (both byte orders, 32 and 64 bit). 0xcafebabe is both a fat Mach-O and a Java class
    // file; a fat binary has a small architecture count where a class file has its version.
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic))
      return { kind: "foreign", format: "mach-o" };
    if (magic === 0xcafebabe && head.length >= 8 && view.getUint32(4, false) < 45) {
      return { kind: "foreign", format: "mach-o" };
    }
  }
  if (head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a) return { kind: "foreign", format: "pe" };
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    const line = Buffer.from(head.subarray(2)).toString("latin1").split("\n")[0] ?? "";
    return { kind: "script", interpreter: line.trim().split(/\s+/)[0] ?? "" };
  }
  return { kind: "data" };
}

function elfHeader(head: Uint8Array): ElfHeader | undefined {
  const bits = head[4] === 1 ? 32 : head[4] === 2 ? 64 : undefined;
  const endian = head[5] === 1 ? "little" : head[5] === 2 ? "big" : undefined;
  if (bits === undefined || endian === undefined) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const little = endian === "little";
  const type = ELF_TYPES[view.getUint16(16, little)] ?? "other";
  const machine = view.getUint16(18, little);
  const match = MACHINES.find((m) => m.machine === machine && m.bits === bits && m.endian === endian);
  return {
    bits,
    endian,
    machine,
    type,
    osAbi: head[7] ?? 0,
    ...(match ? { architecture: match.arch } : {}),
  };
}

/**
 * Adds the ARM architecture level to a 32-bit ARM ELF file's kind by reading on through its
 * content (`content` from the file's first byte; see readArmLevel for what is buffered). Any other
 * kind is returned as it is, without reading.
 */
export async function withArmLevel(
  kind: ProgramKind,
  content: AsyncIterable<Uint8Array>,
): Promise<ProgramKind> {
  if (kind.kind !== "elf" || kind.elf.architecture !== "arm") return kind;
  const level = await readArmLevel(content);
  return level === undefined ? kind : { kind: "elf", elf: { ...kind.elf, armLevel: level } };
}

/** A short human name for what a classified file is built for, as `file` would put it. */
export function describeProgram(kind: ProgramKind): string {
  switch (kind.kind) {
    case "elf":
      return `ELF ${kind.elf.bits}-bit ${kind.elf.endian === "little" ? "LSB" : "MSB"} ${
        kind.elf.architecture ?? `machine ${kind.elf.machine}`
      }${kind.elf.armLevel !== undefined ? ` v${kind.elf.armLevel} (.ARM.attributes)` : ""}`;
    case "foreign":
      return kind.format === "pe" ? "PE (Windows)" : "Mach-O (macOS)";
    case "script":
      return `script (${kind.interpreter})`;
    case "data":
      return "data";
  }
}

// EI_OSABI values Linux loads: System V (most toolchains), GNU/Linux, and old ARM's own value.
// FreeBSD (9), Solaris (6) and the like mark programs for another kernel.
const LINUX_ABIS = new Set([0, 3, 97]);

/**
 * Whether a classified file is built for `platform`: ELF files whose architecture matches, scripts
 * and data always, Mach-O and PE never on Linux. An ELF whose machine polypack does not know is
 * reported as foreign, and so is one whose OS/ABI byte names another kernel (FreeBSD, say) when
 * the platform is Linux. A 32-bit ARM program whose attributes were read (withArmLevel) must be of
 * the platform's variant: a v7 program cannot run on a v6 CPU, and a v6 one in an arm/v7 image,
 * though it runs, says the build for another variant was packaged (`--allow` it when meant).
 */
export function runsOn(kind: ProgramKind, platform: Platform): boolean {
  switch (kind.kind) {
    case "elf":
      return (
        kind.elf.architecture !== undefined &&
        new Platform({ architecture: kind.elf.architecture }).architecture === platform.architecture &&
        (platform.os !== "linux" || LINUX_ABIS.has(kind.elf.osAbi)) &&
        armVariantFits(kind.elf, platform)
      );
    case "foreign":
      return kind.format === "pe" ? platform.os === "windows" : platform.os === "darwin";
    default:
      return true;
  }
}

function armVariantFits(elf: ElfHeader, platform: Platform): boolean {
  if (elf.armLevel === undefined || platform.architecture !== "arm") return true;
  return !/^v\d+$/.test(platform.variant) || platform.variant === `v${elf.armLevel}`;
}
