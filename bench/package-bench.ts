import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticBuildpack } from "../test/support/synthetic-buildpack.js";
import { best, measure, type Measurement } from "./measure.js";

const MiB = 1024 * 1024;
const ARCHES = ["amd64", "arm64"] as const;
const DEPENDENCIES_PER_TARGET = 3;

/** Figures of the packaging benchmark. */
export interface PackageBenchResult {
  dependencyBytes: number;
  /** Cold packaging into a `.cnb`: empty layer cache, dependencies already downloaded. */
  cold: Measurement;
  /** The physical floor: `tar | sha256sum` over the same files, one pass of reading and hashing. */
  floor: Measurement;
  /** What packaging used to be compared with: `tar | gzip -6 | sha256sum`. */
  gzipPeer: Measurement;
  /** Cold time divided by the floor's (at most 2 is the goal). */
  floorRatio: number;
  /** Repackaging into the `.cnb` after one small file changed. */
  repackage: Measurement;
  /** Repackaging time divided by cold time (under 0.2 is the goal). */
  repackageRatio: number;
  /** The same change, repackaged into an OCI layout that already holds the package. */
  repackageLayout: Measurement;
  /**
   * The least any repackage must do after that change: the changed target alone
   * (`--target linux/amd64`), its one 192 MiB layer hashed for its diffID and digest and written,
   * into a new layout. No correct repackage into the `.cnb` can beat it.
   */
  changedLayerOnly: Measurement;
  /** changedLayerOnly divided by cold: the lowest repackaging ratio within reach. */
  changedLayerRatio: number;
}

/**
 * Packages a two-target buildpack with three 64 MiB dependencies per target (`--offline`, the
 * dependencies already in polypack's download cache) into a `.cnb`; beside it, in the same run, the
 * floor `tar | sha256sum` and `tar | gzip -6 | sha256sum` over the same files; then repackages after
 * one small file changed, into the `.cnb` and into a layout, and packages the changed target alone
 * (the least a repackage must do). Each polypack figure is the best of
 * `runs` (each cold run with an empty layer cache).
 */
export async function packageBench(
  cli: string,
  runs = 1,
  dependencySize = 64 * MiB,
): Promise<PackageBenchResult> {
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
    const run = (
      format: "file" | "layout",
      output: string,
      cacheHome: string,
      extra: readonly string[] = [],
    ): Promise<Measurement> =>
      measure(
        "node",
        [
          cli,
          "buildpack",
          "package",
          "bench/multi:1.0.0",
          "--path",
          buildpack,
          "--format",
          format,
          "--output",
          output,
          "--offline",
          "--cache-dir",
          dependencyCache,
          ...extra,
        ],
        { ...process.env, POLYPACK_CACHE_DIR: cacheHome, CI: "true" },
      );

    // Fill the download cache once, and let its files settle, so that what is measured starts
    // from a warm download cache whose entries can be trusted by their identity (see
    // DependencyCache.entry); a second warm-up run records those identities.
    await run("file", join(work, "warm.cnb"), join(work, "cache-warmup"));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await run("file", join(work, "warm.cnb"), join(work, "cache-warmup"));

    const cnb = join(work, "out.cnb");
    const layout = join(work, "layout");
    const cacheHome = (n: number): string => join(work, `cache-home-${n}`);
    const cold = await best(runs, (n) => run("file", cnb, cacheHome(n)));
    await run("layout", layout, cacheHome(0));
    const tarFiles = files.map((f) => JSON.stringify(f)).join(" ");
    const tar = `tar -cf - -C ${JSON.stringify(buildpack)} ${tarFiles}`;
    const floor = await best(runs, () => measure("bash", ["-c", `${tar} | sha256sum >/dev/null`]));
    const gzipPeer = await measure("bash", ["-c", `${tar} | gzip -6 | sha256sum >/dev/null`]);

    // One small file changes; everything else is as before.
    const script = join(buildpack, "linux", "amd64", "bin", "build");
    const original = await readFile(script, "utf8");
    const repackage = await best(runs, async (n) => {
      await writeFile(script, `${original}# changed ${n}\n`);
      return run("file", cnb, cacheHome(0));
    });
    const repackageLayout = await best(runs, async (n) => {
      await writeFile(script, `${original}# changed in the layout ${n}\n`);
      return run("layout", layout, cacheHome(0));
    });

    const changedLayerOnly = await best(runs, async (n) => {
      await writeFile(script, `${original}# changed alone ${n}\n`);
      const fresh = join(work, `layout-changed-${n}`);
      return run("layout", fresh, cacheHome(0), ["--target", "linux/amd64"]);
    });

    return {
      dependencyBytes: dependencySize * DEPENDENCIES_PER_TARGET * ARCHES.length,
      cold,
      floor,
      gzipPeer,
      floorRatio: cold.seconds / floor.seconds,
      repackage,
      repackageRatio: repackage.seconds / cold.seconds,
      repackageLayout,
      changedLayerOnly,
      changedLayerRatio: changedLayerOnly.seconds / cold.seconds,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
