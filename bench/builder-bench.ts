import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaultProxy, type RecordedRequest } from "../test/support/fault-proxy.js";
import { startRegistry } from "../test/support/registry.js";
import {
  baseIndex,
  lifecycleIndex,
  multiArchBuildpack,
  publish,
  TEST_ARCHES,
} from "../test/support/base-images.js";
import { best, measure, type Measurement } from "./measure.js";

/** Figures of the builder benchmark. */
export interface BuilderBenchResult {
  /** `builder create --publish` into a new repository when every input is already in the registry. */
  create: Measurement;
  /** The most bytes of blob uploads any run sent (everything else is mounted). */
  uploadedBytes: number;
  /** The same registry copying the build image index into a new repository with `skopeo copy --all`. */
  skopeo: Measurement;
  ratio: number;
}

function uploadedBlobBytes(requests: readonly RecordedRequest[]): number {
  return requests
    .filter((r) => /\/blobs\/uploads\//.test(r.path) && (r.method === "PATCH" || r.method === "PUT"))
    .reduce((sum, r) => sum + r.bodyBytes, 0);
}

/**
 * Creates a 2-target builder whose build image, run image, lifecycle image and buildpack are
 * already in the local registry, into a fresh repository each run, through a recording proxy so the
 * bytes uploaded are counted; beside it, skopeo copies the build image into another repository of
 * the same registry (which it does by mounting, too).
 */
export async function builderBench(cli: string, runs: number): Promise<BuilderBenchResult> {
  const work = await mkdtemp(join(tmpdir(), "polypack-bench-builder-"));
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.url);
  const host = registry.host;
  try {
    const cnbUser = { uid: 1000, gid: 1000 };
    const labels = { "io.buildpacks.base.distro.name": "bench", "io.buildpacks.base.distro.version": "1" };
    await publish(await baseIndex(TEST_ARCHES, { cnbUser, labels }), `${host}/stack/build:1`);
    await publish(await baseIndex(TEST_ARCHES, { cnbUser, labels }), `${host}/stack/run:1`);
    await publish(await lifecycleIndex("0.20.1"), `${host}/lifecycle:0.20.1`);
    const bp = await multiArchBuildpack(join(work, "bp"), "bench/bp", "1.0.0");
    await measure("node", [cli, "buildpack", "package", `${host}/bp:1`, "--path", bp, "--publish"]);
    const proxied = proxy.url.replace(/^https?:\/\//, "");
    const config = join(work, "builder.toml");
    await writeFile(
      config,
      [
        "[[buildpacks]]",
        `uri = "docker://${proxied}/bp:1"`,
        "[[order]]",
        "[[order.group]]",
        'id = "bench/bp"',
        "[build]",
        `image = "${proxied}/stack/build:1"`,
        "[[run.images]]",
        `image = "${proxied}/stack/run:1"`,
        "[lifecycle]",
        `uri = "docker://${proxied}/lifecycle:0.20.1"`,
        "",
      ].join("\n"),
    );
    let uploadedBytes = 0;
    const create = await best(runs, async (run) => {
      proxy.requests.length = 0;
      const m = await measure("node", [
        cli,
        "builder",
        "create",
        `${proxied}/builders/b${run}:1`,
        "--config",
        config,
        "--publish",
      ]);
      uploadedBytes = Math.max(uploadedBytes, uploadedBlobBytes(proxy.requests));
      return m;
    });
    const skopeo = await best(runs, (run) =>
      measure("skopeo", [
        "copy",
        "--all",
        "--quiet",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${host}/stack/build:1`,
        `docker://${host}/copies/c${run}:1`,
      ]),
    );
    return { create, uploadedBytes, skopeo, ratio: create.seconds / skopeo.seconds };
  } finally {
    await proxy.stop();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
