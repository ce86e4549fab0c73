import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticBuildpack } from "../test/support/synthetic-buildpack.js";
import { best, measure, type Measurement } from "./measure.js";

const MiB = 1024 * 1024;

/** Figures of the verify benchmark. */
export interface VerifyBenchResult {
  /** `polypack verify` over the two-target buildpackage in an OCI layout. */
  verify: Measurement;
  /** `tar -xzf layer -O | sha256sum` over the same layer blobs, one after another. */
  floor: Measurement;
  /** verify's time divided by the floor's (at most 1.5 is the goal). */
  ratio: number;
}

/**
 * Packages the benchmark buildpack (2 targets, 3 × 64 MiB dependencies each, offline) into an OCI
 * layout once, without verification, then measures `polypack verify` on it beside the floor of
 * reading each layer once: `tar -xzf layer -O | sha256sum` over the same layer blobs, in the same
 * run. Each figure is the best of `runs`.
 */
export async function verifyBench(
  cli: string,
  runs = 1,
  dependencySize = 64 * MiB,
): Promise<VerifyBenchResult> {
  const work = await mkdtemp(join(tmpdir(), "polypack-bench-verify-"));
  try {
    const buildpack = join(work, "buildpack");
    await writeSyntheticBuildpack(buildpack, {
      id: "bench/multi",
      arches: ["amd64", "arm64"],
      dependenciesPerTarget: 3,
      dependencySize,
    });
    const layout = join(work, "layout");
    const env = { ...process.env, POLYPACK_CACHE_DIR: join(work, "cache"), CI: "true" };
    await measure(
      "node",
      [cli, "buildpack", "package", "bench/multi:1.0.0", "--path", buildpack, "--format", "layout"].concat([
        "--output",
        layout,
        "--offline",
        "--no-verify",
        "--cache-dir",
        join(work, "deps"),
      ]),
      env,
    );
    const layers = await layerBlobs(layout);
    const verify = await best(runs, () => measure("node", [cli, "verify", `oci:${layout}`], env));
    const script = layers
      .map((blob) => `tar -xzf ${JSON.stringify(blob)} -O | sha256sum >/dev/null`)
      .join(" && ");
    const floor = await best(runs, () => measure("bash", ["-c", script]));
    return { verify, floor, ratio: verify.seconds / floor.seconds };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// The layer blobs of every image of the layout's one index.
async function layerBlobs(layout: string): Promise<string[]> {
  const blob = (digest: string): string => join(layout, "blobs", "sha256", digest.slice(7));
  const read = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, "utf8")) as T;
  const top = await read<{ manifests: { digest: string }[] }>(join(layout, "index.json"));
  const index = await read<{ manifests: { digest: string }[] }>(blob(top.manifests[0]!.digest));
  const out: string[] = [];
  for (const entry of index.manifests) {
    const manifest = await read<{ layers: { digest: string }[] }>(blob(entry.digest));
    out.push(...manifest.layers.map((layer) => blob(layer.digest)));
  }
  return out;
}
