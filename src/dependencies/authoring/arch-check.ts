import { createReadStream } from "node:fs";
import { peek } from "../../layer/decompress.js";
import type { Platform } from "../../oci/platform.js";
import { STREAM_CHUNK_BYTES } from "../../oci/verify.js";
import { HEAD_BYTES, scanArchive } from "../../verify/archive.js";
import { classifyProgram, describeProgram, runsOn, type ProgramKind } from "../../verify/elf.js";

/** A program in a download that does not run on the target: its path inside the archive and what it is. */
export interface ForeignProgram {
  /** `bin/node`, `lib.tgz!bin/x` for archives within the archive, or empty for a bare program. */
  path: string;
  found: string;
}

/** What the check found in one downloaded file. */
export interface ArchitectureCheck {
  /** `tar`, `gzip`, `zip` ..., `program` for a bare executable, `file` for anything else. */
  format: string;
  /** Programs (ELF, Mach-O, PE) looked at. */
  programs: number;
  foreign: ForeignProgram[];
  /** Why an archive could not be read to its end, when it could not. */
  problem?: string;
}

/**
 * Checks that the programs in a downloaded file (a bare program, or every program inside an
 * archive and the archives within it) run on `platform`, with verify's readers and its rule:
 * relocatable objects and core files are not programs anyone runs, so they are not judged.
 */
export async function checkDownloadArchitecture(
  path: string,
  platform: Platform,
): Promise<ArchitectureCheck> {
  const content = createReadStream(path, { highWaterMark: STREAM_CHUNK_BYTES });
  try {
    const { head, rest } = await peek(content, HEAD_BYTES);
    const kind = classifyProgram(head);
    if (kind.kind === "elf" || kind.kind === "foreign") {
      return { format: "program", programs: 1, foreign: judged(kind, platform) ? [] : [foreign("", kind)] };
    }
    const scan = await scanArchive(head, rest, { file: path });
    if (scan === undefined) return { format: "file", programs: 0, foreign: [] };
    return {
      format: scan.format,
      programs: scan.programs.length,
      foreign: scan.programs.filter((p) => !judged(p.kind, platform)).map((p) => foreign(p.path, p.kind)),
      ...(scan.problem === undefined ? {} : { problem: scan.problem }),
    };
  } finally {
    content.destroy();
  }
}

/**
 * The foreign programs of a check for a message: `bin/node is ELF x86-64 ...; ...`, the first three
 * and how many more, `the file itself is ...` for a bare program.
 */
export function foreignSummary(check: ArchitectureCheck): string {
  const named = check.foreign
    .slice(0, 3)
    .map((p) => (p.path === "" ? `the file itself is ${p.found}` : `${p.path} is ${p.found}`));
  const more = check.foreign.length > 3 ? ` and ${check.foreign.length - 3} more` : "";
  return `${named.join("; ")}${more}`;
}

/** Whether a program passes: it runs on the platform, or it is no program anyone runs. */
function judged(kind: ProgramKind, platform: Platform): boolean {
  if (kind.kind === "elf" && kind.elf.type !== "executable" && kind.elf.type !== "shared") return true;
  return runsOn(kind, platform);
}

function foreign(path: string, kind: ProgramKind): ForeignProgram {
  return { path, found: describeProgram(kind) };
}
