import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayoutTarget } from "../src/layout/layout-target.js";
import { startRegistry } from "../test/support/registry.js";
import { writeRandomIndex } from "../test/support/images.js";
import { best, measure, type Measurement } from "./measure.js";

const MiB = 1024 * 1024;

/** Figures of the copy benchmark. */
export interface CopyBenchResult {
  layerBytes: number;
  polypack: Measurement;
  skopeo: Measurement;
  /** polypack's time divided by skopeo's (at most 1 is the goal). */
  timeRatio: number;
  recopy: Measurement;
}

/**
 * Copies a two-platform index with 2 × 200 MiB of layers from an OCI layout to a local registry,
 * with polypack and with `skopeo copy --all`, in alternating order into fresh repositories, and
 * then re-copies with polypack when everything is already there.
 */
export async function copyBench(cli: string, runs: number): Promise<CopyBenchResult> {
  const work = await mkdtemp(join(tmpdir(), "polypack-bench-copy-"));
  try {
    const layout = join(work, "layout");
    const target = await LayoutTarget.create(layout);
    const layerSizes = [100 * MiB, 100 * MiB];
    await writeRandomIndex(target, {
      platforms: ["linux/amd64", "linux/arm64"],
      layerSizes,
      tag: "bench",
      seed: "bench",
    });
    await target.commit();

    const polypackRun = (host: string): Promise<Measurement> =>
      measure("node", [cli, "copy", `oci:${layout}:bench`, `${host}/polypack:bench`]);
    const skopeoRun = (host: string): Promise<Measurement> =>
      measure("skopeo", [
        "copy",
        "--all",
        "--quiet",
        "--dest-tls-verify=false",
        `oci:${layout}:bench`,
        `docker://${host}/skopeo:bench`,
      ]);
    let polypack: Measurement | undefined;
    let skopeo: Measurement | undefined;
    let recopy: Measurement | undefined;
    for (let run = 0; run < runs; run++) {
      // A fresh registry each round: skopeo remembers where it pushed blobs before and would mount
      // them instead of uploading, and neither tool should find the other's blobs.
      const registry = await startRegistry();
      try {
        // Alternate who goes first so neither always meets a warm or cold page cache.
        const order = run % 2 === 0 ? ["polypack", "skopeo"] : ["skopeo", "polypack"];
        for (const tool of order) {
          if (tool === "polypack") polypack = pick(polypack, await polypackRun(registry.host));
          else skopeo = pick(skopeo, await skopeoRun(registry.host));
        }
        if (run === runs - 1) recopy = await best(3, () => polypackRun(registry.host));
      } finally {
        await registry.stop();
      }
    }
    return {
      layerBytes: layerSizes.reduce((a, b) => a + b, 0) * 2,
      polypack: polypack!,
      skopeo: skopeo!,
      timeRatio: polypack!.seconds / skopeo!.seconds,
      recopy: recopy!,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function pick(current: Measurement | undefined, next: Measurement): Measurement {
  if (!current) return next;
  const faster = next.seconds < current.seconds ? next : current;
  return { ...faster, peakRssMiB: Math.max(current.peakRssMiB, next.peakRssMiB) };
}
