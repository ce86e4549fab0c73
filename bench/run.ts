import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { renderTable } from "../src/cli/table.js";
import { builderBench } from "./builder-bench.js";
import { copyBench } from "./copy-bench.js";
import { emulateBench } from "./emulate-bench.js";
import { packageBench } from "./package-bench.js";
import { verifyBench } from "./verify-bench.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "src", "cli", "bin.js");
const runs = Number(process.env["POLYPACK_BENCH_RUNS"] ?? "3");

interface Row {
  benchmark: string;
  polypack: string;
  peer: string;
  ratio: string;
  goal: string;
  met: boolean;
}

const rows: Row[] = [];
const results: Record<string, unknown> = { runs, date: new Date().toISOString() };

const copy = await copyBench(cli, runs);
results["copy"] = copy;
rows.push(
  {
    benchmark: "copy 2-platform index, 400 MiB, layout → registry",
    polypack: `${copy.polypack.seconds.toFixed(2)} s`,
    peer: `skopeo copy --all ${copy.skopeo.seconds.toFixed(2)} s`,
    ratio: copy.timeRatio.toFixed(2),
    goal: "ratio ≤ 1.00",
    met: copy.timeRatio <= 1,
  },
  {
    benchmark: "re-copy when everything is present",
    polypack: `${copy.recopy.seconds.toFixed(2)} s`,
    peer: "-",
    ratio: "-",
    goal: "< 0.5 s",
    met: copy.recopy.seconds < 0.5,
  },
  {
    benchmark: "peak memory during copy",
    polypack: `${copy.polypack.peakRssMiB.toFixed(0)} MiB`,
    peer: `skopeo ${copy.skopeo.peakRssMiB.toFixed(0)} MiB`,
    ratio: (copy.polypack.peakRssMiB / copy.skopeo.peakRssMiB).toFixed(2),
    goal: "< 200 MiB",
    met: copy.polypack.peakRssMiB < 200,
  },
);

const pack = await packageBench(cli, runs);
results["package"] = pack;
const packagePeak = Math.max(
  pack.cold.peakRssMiB,
  pack.repackage.peakRssMiB,
  pack.repackageLayout.peakRssMiB,
);
rows.push(
  {
    benchmark: "package 2 targets × 3 × 64 MiB dependencies into a .cnb (cached), offline",
    polypack: `${pack.cold.seconds.toFixed(2)} s`,
    peer: `tar | sha256sum ${pack.floor.seconds.toFixed(2)} s`,
    ratio: pack.floorRatio.toFixed(2),
    goal: "ratio ≤ 2.00",
    met: pack.floorRatio <= 2,
  },
  {
    benchmark: "  the same, beside what it was compared with before",
    polypack: `${pack.cold.seconds.toFixed(2)} s`,
    peer: `tar | gzip -6 | sha256sum ${pack.gzipPeer.seconds.toFixed(2)} s`,
    ratio: (pack.cold.seconds / pack.gzipPeer.seconds).toFixed(2),
    goal: "ratio ≤ 1.00",
    met: pack.cold.seconds <= pack.gzipPeer.seconds,
  },
  {
    benchmark: "repackage into the .cnb after one small file changed",
    polypack: `${pack.repackage.seconds.toFixed(2)} s`,
    peer: `cold ${pack.cold.seconds.toFixed(2)} s`,
    ratio: pack.repackageRatio.toFixed(2),
    goal: "ratio < 0.20",
    met: pack.repackageRatio < 0.2,
  },
  {
    benchmark: "  the same into an OCI layout",
    polypack: `${pack.repackageLayout.seconds.toFixed(2)} s`,
    peer: `cold ${pack.cold.seconds.toFixed(2)} s`,
    ratio: (pack.repackageLayout.seconds / pack.cold.seconds).toFixed(2),
    goal: "-",
    met: true,
  },
  {
    benchmark: "  the least any repackage must do: the changed target alone",
    polypack: `${pack.changedLayerOnly.seconds.toFixed(2)} s`,
    peer: `cold ${pack.cold.seconds.toFixed(2)} s`,
    ratio: pack.changedLayerRatio.toFixed(2),
    goal: "-",
    met: true,
  },
  {
    benchmark: "peak memory while packaging",
    polypack: `${packagePeak.toFixed(0)} MiB`,
    peer: `pipeline ${pack.floor.peakRssMiB.toFixed(0)} MiB (largest process)`,
    ratio: "-",
    goal: "< 256 MiB",
    met: packagePeak < 256,
  },
);

const builder = await builderBench(cli, runs);
results["builder"] = builder;
rows.push({
  benchmark: `create a 2-target builder, inputs in the registry (uploads ${(builder.uploadedBytes / 1024).toFixed(0)} KiB)`,
  polypack: `${builder.create.seconds.toFixed(2)} s`,
  peer: `skopeo copy --all build image ${builder.skopeo.seconds.toFixed(2)} s`,
  ratio: builder.ratio.toFixed(2),
  goal: "< 2 s, small layers only",
  met: builder.create.seconds < 2 && builder.uploadedBytes < 1024 * 1024,
});

const verified = await verifyBench(cli, runs);
results["verify"] = verified;
rows.push({
  benchmark: "verify 2 targets × 3 × 64 MiB dependencies (OCI layout)",
  polypack: `${verified.verify.seconds.toFixed(2)} s`,
  peer: `tar -xzf layer -O | sha256sum ${verified.floor.seconds.toFixed(2)} s`,
  ratio: verified.ratio.toFixed(2),
  goal: "ratio ≤ 1.50",
  met: verified.ratio <= 1.5,
});

const emulate = await emulateBench(cli, root, runs);
results["emulate"] = emulate;
rows.push({
  benchmark: "polypack test of the example: arm64 under proot + qemu vs amd64 natively",
  polypack: `${emulate.emulated.seconds.toFixed(2)} s`,
  peer: `native amd64 ${emulate.native.seconds.toFixed(2)} s`,
  ratio: emulate.ratio.toFixed(2),
  goal: "ratio ≤ 10, both < 5 s",
  met: emulate.ratio <= 10 && emulate.emulated.seconds < 5 && emulate.native.seconds < 5,
});

console.log(
  renderTable(
    ["BENCHMARK", "POLYPACK", "PEER (SAME RUN)", "RATIO", "GOAL", "MET"],
    rows.map((r) => [r.benchmark, r.polypack, r.peer, r.ratio, r.goal, r.met ? "yes" : "NO"]),
  ),
);
results["rows"] = rows;
const outDir = join(root, "bench-results");
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, "bench.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`\n${JSON.stringify(results)}`);
