/**
 * Repackaging: a second run over an unchanged target writes nothing for it (the destination layout
 * or registry already holds its layer), a changed target compresses only what changed, and every
 * result is exactly what a run without the layer cache gives.
 */
import assert from "node:assert/strict";
import { appendFile, readdir, readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { writeSyntheticBuildpack } from "../support/synthetic-buildpack.js";
import { tempDir } from "../support/tmp.js";
import { polypack, polypackOk, readJSON } from "./buildpack-package-support.js";

const MiB = 1024 * 1024;

interface Report {
  digest: string;
  targets: {
    target: string;
    digest: string;
    layer: { written: boolean; members: number; stored: number; compressed: number; cacheHits: number };
  }[];
}

describe("repackaging reuses what did not change", () => {
  let work: string;
  let bp: string;
  let env: NodeJS.ProcessEnv;
  let registry: RegistryHandle;

  const packageTo = async (args: string[], extra: string[] = []): Promise<Report> => {
    const common = ["--path", bp, "--offline", "--cache-dir", join(work, "downloads")];
    const outcome = await polypackOk(["--json", "buildpack", "package", ...args, ...common, ...extra], {
      env,
    });
    return JSON.parse(outcome.stdout) as Report;
  };
  const layers = (report: Report): Record<string, string> =>
    Object.fromEntries(
      report.targets.map(({ target, layer }) => [
        target,
        layer.written ? `compressed ${layer.compressed}/${layer.compressed + layer.cacheHits}` : "unchanged",
      ]),
    );

  before(async () => {
    work = await tempDir("polypack-repackage-");
    bp = join(work, "bp");
    // One 6 MiB dependency per target (a segment of its own), served from outside the buildpack.
    await writeSyntheticBuildpack(bp, {
      id: "test/repackage",
      arches: ["amd64", "arm64"],
      dependenciesPerTarget: 1,
      dependencySize: 6 * MiB + 321,
      downloads: join(work, "served"),
    });
    env = { POLYPACK_CACHE_DIR: join(work, "cache-home") };
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  test("into a layout: unchanged targets are not written again, a changed one compresses one piece", async () => {
    const layout = join(work, "layout");
    const cold = await packageTo(["repackage", "--format", "layout", "--output", layout]);
    assert.ok(cold.targets.every(({ layer }) => layer.written && layer.cacheHits === 0));
    assert.ok(
      cold.targets.every(({ layer }) => layer.stored > 0),
      "the random dependency is stored, not compressed",
    );

    const again = await packageTo(["repackage", "--format", "layout", "--output", layout]);
    assert.equal(again.digest, cold.digest);
    assert.deepEqual(layers(again), { "linux/amd64": "unchanged", "linux/arm64": "unchanged" });

    await appendFile(join(bp, "linux", "amd64", "bin", "build"), "# changed\n");
    const changed = await packageTo(["repackage", "--format", "layout", "--output", layout]);
    const { compressed, cacheHits } = changed.targets[0]!.layer;
    assert.deepEqual(layers(changed), {
      "linux/amd64": `compressed 1/${compressed + cacheHits}`,
      "linux/arm64": "unchanged",
    });
    assert.notEqual(changed.digest, cold.digest);

    // The same sources without any cache, into a new layout: the same digests, and the layout
    // that was repackaged into holds every blob the new index needs.
    const fresh = await packageTo(
      ["fresh", "--format", "layout", "--output", join(work, "fresh")],
      ["--no-layer-cache"],
    );
    assert.equal(changed.digest, fresh.digest);
    assert.deepEqual(
      changed.targets.map((t) => t.digest),
      fresh.targets.map((t) => t.digest),
    );
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    assert.equal(top.manifests.at(-1)?.digest, changed.digest);
    await readFile(join(layout, "blobs", "sha256", changed.digest.slice(7)));
  });

  test("a damaged dependency in the download cache is never packaged: it is fetched again, or the run fails", async () => {
    const downloads = join(work, "downloads");
    const output = (name: string): string[] => [name, "--format", "layout", "--output", join(work, name)];
    const clean = await packageTo(output("clean"));
    const cached = (await readdir(join(downloads, "sha256"))).map((name) => join(downloads, "sha256", name));
    assert.equal(cached.length, 2);
    // Same size, same mtime, one byte flipped: only the bytes (and the change time) tell.
    const victim = cached[0]!;
    const { atime, mtime } = await stat(victim);
    const bytes = await readFile(victim);
    bytes[1000] = bytes[1000]! ^ 0xff;
    await writeFile(victim, bytes);
    await utimes(victim, atime, mtime);
    const outcome = await polypackOk(
      ["buildpack", "package", ...output("repaired"), "--path", bp, "--offline", "--cache-dir", downloads],
      { env },
    );
    assert.match(outcome.stderr, /warning: cached dependency .* did not match its checksum/);
    const repaired = await readJSON<ImageIndex>(join(work, "repaired", "index.json"));
    assert.equal(repaired.manifests[0]?.digest, clean.digest, "the same image as from a good cache");

    // Damaged again, and nowhere to fetch it from: a clear failure, and no layout written.
    await writeFile(victim, "");
    const served = join(work, "served");
    await rename(served, `${served}.away`);
    try {
      const failed = await polypack(
        ["buildpack", "package", ...output("broken"), "--path", bp, "--offline", "--cache-dir", downloads],
        { env },
      );
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stderr, /error\[DEPENDENCY_/);
      await assert.rejects(stat(join(work, "broken")));
    } finally {
      await rename(`${served}.away`, served);
    }
  });

  test("to a registry: a second publish writes no layer the repository already has", async () => {
    const reference = `${registry.host}/test/repackage:1`;
    const first = await packageTo([reference, "--publish"]);
    assert.ok(first.targets.every(({ layer }) => layer.written));
    const second = await packageTo([reference, "--publish"]);
    assert.equal(second.digest, first.digest);
    assert.deepEqual(layers(second), { "linux/amd64": "unchanged", "linux/arm64": "unchanged" });
  });
});
