import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticBuildpack } from "../test/support/synthetic-buildpack.js";
import { measure, type Measurement } from "./measure.js";

const MiB = 1024 * 1024;
const ARCHES = ["amd64", "arm64"] as const;
const DEPENDENCIES_PER_TARGET = 3;

/** Figures of the packaging benchmark. */
export interface PackageBenchResult {
  dependencyBytes: number;
  cold: Measurement;
  peer: Measurement;
  /** polypack's cold time divided by the pipeline's (at most 1 is the goal). */
  timeRatio: number;
  repackage: Measurement;
  /** Repackaging time divided by cold time (under 0.2 is the goal). */
  repackageRatio: number;
}

/**
 * Packages a two-target buildpack with three 64 MiB dependencies per target (`--offline`, the
 * dependencies already in polypack's download cache) into an OCI layout; beside it, in the same
 * run, `tar | gzip -6 | sha256sum` over the same files; then repackages after one small file changed.
 */
export async function packageBench(cli: string, dependencySize = 64 * MiB): Promise<PackageBenchResult> {
  const work = await mkdtemp(join(tmpdir(), "polypack-bench-package-"));
  try {
    const buildpack = join(work, "buildpack");
    const files = await writeSyntheticBuildpack(buildpack, {
      id: "bench/multi",
      arches: ARCHES,
      dependenciesPerTarget: DEPENDENCIES_PER_TARGET,
      dependencySize,
    });
    const dependencyCache = join(work, "dependency-cache");
    const packageArgs = (output: string, cacheHome: string): [string[], NodeJS.ProcessEnv] => [
      [
        cli,
        "buildpack",
        "package",
        "bench/multi:1.0.0",
        "--path",
        buildpack,
        "--format",
        "layout",
        "--output",
        output,
      ].concat(["--offline", "--cache-dir", dependencyCache]),
      { ...process.env, POLYPACK_CACHE_DIR: cacheHome, CI: "true" },
    ];

    // Fill the download cache once; what is measured starts from it, as the issue asks.
    const [warmArgs, warmEnv] = packageArgs(join(work, "warm"), join(work, "cache-warmup"));
    await measure("node", warmArgs, warmEnv);

    const output = join(work, "out");
    const cacheHome = join(work, "cache-home");
    const [coldArgs, coldEnv] = packageArgs(output, cacheHome);
    const cold = await measure("node", coldArgs, coldEnv);
    const peer = await measure("bash", [
      "-c",
      `tar -cf - -C ${JSON.stringify(buildpack)} ${files.map((f) => JSON.stringify(f)).join(" ")} | gzip -6 | sha256sum >/dev/null`,
    ]);

    // One small file changes; everything else is as before.
    const script = join(buildpack, "linux", "amd64", "bin", "build");
    await writeFile(script, (await readFile(script, "utf8")) + "# changed\n");
    const repackage = await measure("node", coldArgs, coldEnv);

    return {
      dependencyBytes: dependencySize * DEPENDENCIES_PER_TARGET * ARCHES.length,
      cold,
      peer,
      timeRatio: cold.seconds / peer.seconds,
      repackage,
      repackageRatio: repackage.seconds / cold.seconds,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
