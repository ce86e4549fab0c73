import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { best, measure, type Measurement } from "./measure.js";

/** Figures of the emulated-test benchmark. */
export interface EmulateBenchResult {
  /** `polypack test` of the example's arm64 image, on this x86-64 machine under proot + qemu. */
  emulated: Measurement;
  /** The same for the amd64 image, run natively. */
  native: Measurement;
  /** emulated / native. */
  ratio: number;
}

/**
 * Packages the bundled example once (its pre-package cross-compiles both targets), then runs
 * `polypack test` on the package for linux/arm64 (emulated) and linux/amd64 (native) in the same
 * run, best of `runs` each; the whole command is timed, start-up included.
 */
export async function emulateBench(cli: string, root: string, runs: number): Promise<EmulateBenchResult> {
  const work = await mkdtemp(join(tmpdir(), "polypack-bench-emulate-"));
  try {
    const example = join(work, "hello-multiarch");
    const source = join(root, "examples", "hello-multiarch");
    await cp(source, example, { recursive: true, filter: (path) => path !== join(source, "linux") });
    const cnb = join(work, "hello.cnb");
    await measure("node", [cli, "buildpack", "package", cnb, "--path", example, "--format", "file"]);
    const run = (target: string): Promise<Measurement> =>
      measure("node", [cli, "test", cnb, "--target", target]);
    const emulated = await best(runs, () => run("linux/arm64"));
    const native = await best(runs, () => run("linux/amd64"));
    return { emulated, native, ratio: emulated.seconds / native.seconds };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
