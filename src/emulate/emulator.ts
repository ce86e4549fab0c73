import { access, constants } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";
import { PolypackError } from "../errors/index.js";
import { Platform } from "../oci/platform.js";

// qemu-user's names for the architectures polypack knows (Debian's qemu-user-static ships these).
const QEMU_NAMES: Record<string, string> = {
  amd64: "x86_64",
  "386": "i386",
  arm64: "aarch64",
  arm: "arm",
  ppc64le: "ppc64le",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loongarch64",
  mips: "mips",
  mipsle: "mipsel",
  mips64: "mips64",
  mips64le: "mips64el",
};

/** How a target's programs are started. */
export type Emulation =
  /** On this machine's own architecture without a root filesystem: the program itself. */
  | { kind: "direct" }
  /**
   * Inside a root filesystem with proot, under qemu-user when `qemu` is set; `hostRoot` runs a
   * native target in this machine's own root, only so the run's folders appear where the
   * lifecycle has them (/cnb/buildpacks, /layers, /workspace ...) instead of at host temporary paths.
   */
  | { kind: "proot"; proot: string; qemu?: string; hostRoot?: boolean };

/** Whether `platform` runs natively here (same architecture, on Linux). */
export function isNative(platform: Platform, host: Platform = Platform.host()): boolean {
  return platform.os === host.os && platform.architecture === host.architecture;
}

/** The qemu-user program name for an architecture, such as `qemu-aarch64-static`. */
export function qemuProgram(architecture: string): string | undefined {
  const name = QEMU_NAMES[architecture];
  return name === undefined ? undefined : `qemu-${name}-static`;
}

/**
 * How to run `platform`'s programs here: when it is native and no root filesystem is needed, under
 * proot in this machine's own root (directly, with host paths, when there is no proot); otherwise
 * proot, with qemu-user for a foreign architecture. Each program is looked up on PATH now, so a
 * missing one is named (with the Debian package that has it) before anything runs.
 */
export async function chooseEmulation(
  platform: Platform,
  needsRoot: boolean,
  options: { host?: Platform; path?: string } = {},
): Promise<Emulation> {
  const native = isNative(platform, options.host);
  if (platform.os !== "linux") {
    throw new PolypackError(
      "EMULATION_UNSUPPORTED",
      `cannot run ${platform.toString()} programs: only linux targets can be run here`,
    );
  }
  const searchPath = options.path ?? process.env["PATH"] ?? "";
  const proot = await findProgram("proot", searchPath);
  if (native && !needsRoot)
    return proot === undefined ? { kind: "direct" } : { kind: "proot", proot, hostRoot: true };
  if (proot === undefined) throw missing("proot", "proot", platform);
  if (native) return { kind: "proot", proot };
  const name = qemuProgram(platform.architecture);
  if (name === undefined) {
    throw new PolypackError(
      "EMULATION_UNSUPPORTED",
      `no qemu-user emulator is known for ${platform.toString()}`,
    );
  }
  const qemu = await findProgram(name, searchPath);
  if (qemu === undefined) throw missing(name, "qemu-user-static", platform);
  return { kind: "proot", proot, qemu };
}

function missing(program: string, debianPackage: string, platform: Platform): PolypackError {
  return new PolypackError(
    "EMULATOR_MISSING",
    `${program} is not on PATH; it is needed to run the ${platform.toString()} buildpack on this machine`,
    { hint: `install it (Debian and Ubuntu: apt-get install ${debianPackage}) and run again` },
  );
}

/** The first executable file called `name` on `searchPath`, or undefined. */
export async function findProgram(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
