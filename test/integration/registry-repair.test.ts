import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { open, readdir, readFile, rm, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { Digest } from "../../src/oci/digest.js";
import { polypack, type Outcome } from "../support/cli.js";
import { writeRandomImage, type RandomImage } from "../support/images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { useRegistryBehindProxy } from "./registry-setup.js";

const bench = useRegistryBehindProxy();

/**
 * A layout holding an image of its own (tag v1). Registry storage keeps one copy of a blob for all
 * repositories, so each test damages blobs no other test uses.
 */
async function sourceImage(seed: string): Promise<{ source: string; image: RandomImage }> {
  const source = await tempDir();
  const target = await LayoutTarget.create(source);
  const image = await writeRandomImage(target, { layerSizes: [300_000, 4000, 2_500_000], tag: "v1", seed });
  return { source, image };
}

/** Where distribution keeps a blob's bytes on disk. */
function dataFile(digest: string): string {
  const { hex } = Digest.parse(digest);
  return join(bench.registry.dataDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

async function headBlob(repository: string, digest: string): Promise<{ status: number; length: number }> {
  const response = await fetch(`${bench.registry.url}/v2/${repository}/blobs/${digest}`, { method: "HEAD" });
  return { status: response.status, length: Number(response.headers.get("content-length")) };
}

async function headTag(repository: string, tag: string): Promise<number> {
  const response = await fetch(`${bench.registry.url}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: MediaTypeAccept },
  });
  return response.status;
}
const MediaTypeAccept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/** skopeo pulls the tagged image whole into a layout, checking every blob against its digest. */
async function pullsWhole(repository: string, tag: string): Promise<void> {
  const out = join(await tempDir(), "pulled");
  await run("skopeo", [
    "copy",
    "--src-tls-verify=false",
    `docker://${bench.registry.host}/${repository}:${tag}`,
    `oci:${out}:x`,
  ]);
}

function copyTo(source: string, repository: string, tag: string): Promise<Outcome> {
  return polypack(["--json", "copy", `oci:${source}:v1`, `${bench.registry.host}/${repository}:${tag}`]);
}

for (const [how, damage] of [
  [
    "deleted from the repository",
    async (repository: string, digest: string) => {
      const response = await fetch(`${bench.registry.url}/v2/${repository}/blobs/${digest}`, {
        method: "DELETE",
      });
      assert.equal(response.status, 202);
    },
  ],
  ["whose bytes vanished from storage", (_repository: string, digest: string) => rm(dataFile(digest))],
] as const) {
  test(`a layer ${how} is pushed again before the new tag`, async () => {
    const repository = `repair/${how.split(" ")[0]}`;
    const { source, image } = await sourceImage(repository);
    const layer = image.manifest.layers[0]!;
    assert.equal((await copyTo(source, repository, "v1")).code, 0);
    await damage(repository, layer.digest);
    assert.equal((await headBlob(repository, layer.digest)).status, 404);

    const again = await copyTo(source, repository, "v2");
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout) as { upToDate: boolean; blobs: { uploaded: number } };
    assert.equal(report.upToDate, false);
    assert.equal(report.blobs.uploaded, 1);
    assert.deepEqual(await headBlob(repository, layer.digest), { status: 200, length: layer.size });
    await pullsWhole(repository, "v2");
  });
}

test("a layer truncated in registry storage fails the copy clearly and the new tag is not written", async () => {
  const repository = "repair/truncated";
  const { source, image } = await sourceImage(repository);
  const layer = image.manifest.layers[0]!;
  assert.equal((await copyTo(source, repository, "v1")).code, 0);
  await truncate(dataFile(layer.digest), 1000);
  assert.equal((await headBlob(repository, layer.digest)).length, 1000);

  const again = await copyTo(source, repository, "v2");
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /^error\[DESTINATION_BLOB_INVALID\]: .*sha256:/m);
  assert.ok(again.stderr.includes(layer.digest), again.stderr);
  assert.equal(
    (JSON.parse(again.stdout) as { error: { code: string } }).error.code,
    "DESTINATION_BLOB_INVALID",
  );
  assert.equal(await headTag(repository, "v2"), 404, "no tag over a broken graph");
});

test("a re-copy where everything is present only checks, and stays fast", async () => {
  const repository = "repair/present";
  const { source } = await sourceImage(repository);
  assert.equal((await copyTo(source, repository, "v1")).code, 0);
  const started = Date.now();
  const again = await copyTo(source, repository, "v1");
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { upToDate: boolean }).upToDate, true);
  assert.ok(Date.now() - started < 5000, "a HEAD per blob, not a push");
});

test("blob streams failing at once give one error[CODE], valid --json and exit 1, no stack trace", async () => {
  const repository = "streams/corrupt";
  const { source } = await sourceImage(repository);
  assert.equal((await copyTo(source, repository, "v1")).code, 0);
  const from = `${bench.proxy.host}/${repository}:v1`;
  const cases: [string, string][] = [
    ["layout", `oci:${join(await tempDir(), "out")}:v1`],
    [".cnb", join(await tempDir(), "out.cnb")],
  ];
  bench.proxy.rules.push({
    method: "GET",
    path: /\/streams\/corrupt\/blobs\//,
    action: { kind: "corrupt" },
    times: Infinity,
  });
  try {
    for (const [kind, destination] of cases) {
      const result = await polypack(["--json", "copy", "--concurrency", "4", from, destination]);
      assert.equal(result.code, 1, `${kind}: ${result.stderr}`);
      assert.equal((result.stderr.match(/error\[/g) ?? []).length, 1, result.stderr);
      assert.match(result.stderr, /^error\[DIGEST_MISMATCH\]/m);
      assert.doesNotMatch(result.stderr, /\n\s+at |Unhandled/, "no stack trace");
      assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "DIGEST_MISMATCH");
    }
  } finally {
    bench.proxy.rules.length = 0;
  }
});

test("a layout source with two corrupted blobs, copied two at a time, fails once and cleanly", async () => {
  const broken = await tempDir();
  const target = await LayoutTarget.create(broken);
  const written = await writeRandomImage(target, { layerSizes: [1_500_000, 1_500_000, 3000], tag: "v1" });
  for (const layer of written.manifest.layers.slice(0, 2)) {
    const file = await open(target.layout.blobPath(layer.digest), "r+");
    await file.write(Buffer.from([0, 1, 2, 3]), 0, 4, 100);
    await file.close();
  }
  const out = join(await tempDir(), "out");
  const result = await polypack([
    "--json",
    "copy",
    "--concurrency",
    "2",
    `oci:${broken}:v1`,
    `oci:${out}:v1`,
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.equal((result.stderr.match(/error\[/g) ?? []).length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "DIGEST_MISMATCH");
});

/** The compiled command line (as test/support/cli.ts finds it). */
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "bin.js");

/** Starts `polypack ARGS` and returns the child and how it ended. */
function startPolypack(args: readonly string[]) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, ended };
}

/** Every path under `dir` (recursively) whose name is one of polypack's temporaries. */
async function temporaries(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (/\.tmp(\.d)?$/.test(entry.name) || entry.name.endsWith(".lock")) {
      found.push(join(entry.parentPath, entry.name));
    }
  }
  return found;
}

/** Waits until `dir` holds a temporary blob file: a copy into it is then in the middle of a blob. */
async function midCopy(dir: string, ended: Promise<unknown>): Promise<void> {
  let finished = false;
  void ended.then(() => (finished = true));
  for (let waited = 0; waited < 20_000; waited += 10) {
    const found = await temporaries(dir).catch(() => []);
    if (found.some((path) => /blobs\/sha256\/\.[0-9a-f]{64}\./.test(path))) return;
    assert.ok(!finished, "the copy ended before it was caught in the middle");
    await delay(10);
  }
  assert.fail("the copy never started writing a blob");
}

for (const kind of ["layout", ".cnb"] as const) {
  test(`SIGTERM in the middle of a copy to a ${kind}: exit 143, error[INTERRUPTED], no temporaries`, async () => {
    const repository = `signals/term-${kind === "layout" ? "layout" : "cnb"}`;
    const { source } = await sourceImage(repository);
    assert.equal((await copyTo(source, repository, "v1")).code, 0);
    const dir = await tempDir();
    const destination = kind === "layout" ? `oci:${join(dir, "out")}:v1` : join(dir, "out.cnb");
    // Blob downloads hang for a while, so the copy is caught with its temporary files open.
    bench.proxy.rules.push({
      method: "GET",
      path: new RegExp(`/${repository}/blobs/`),
      action: { kind: "delay", ms: 3000 },
      times: Infinity,
    });
    try {
      const { child, ended } = startPolypack([
        "--json",
        "copy",
        `${bench.proxy.host}/${repository}:v1`,
        destination,
      ]);
      await midCopy(dir, ended);
      child.kill("SIGTERM");
      const result = await ended;
      assert.equal(result.code, 143, `${result.signal ?? ""} ${result.stderr}`);
      assert.match(result.stderr, /^error\[INTERRUPTED\]: interrupted by SIGTERM/m);
      assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, "INTERRUPTED");
      assert.deepEqual(await temporaries(dir), []);
      assert.deepEqual(
        (await readdir(dir)).filter((name) => name !== "out"),
        [],
        "nothing beside the output either",
      );
    } finally {
      bench.proxy.rules.length = 0;
    }
  });

  test(`temporaries a SIGKILLed copy left in a ${kind} are swept by the next write`, async () => {
    const repository = `signals/kill-${kind === "layout" ? "layout" : "cnb"}`;
    const { source, image } = await sourceImage(repository);
    assert.equal((await copyTo(source, repository, "v1")).code, 0);
    const dir = await tempDir();
    const destination = kind === "layout" ? `oci:${join(dir, "out")}:v1` : join(dir, "out.cnb");
    bench.proxy.rules.push({
      method: "GET",
      path: new RegExp(`/${repository}/blobs/`),
      action: { kind: "delay", ms: 3000 },
      times: Infinity,
    });
    let killed;
    try {
      const { child, ended } = startPolypack(["copy", `${bench.proxy.host}/${repository}:v1`, destination]);
      await midCopy(dir, ended);
      child.kill("SIGKILL");
      killed = await ended;
    } finally {
      bench.proxy.rules.length = 0;
    }
    assert.equal(killed.signal, "SIGKILL");
    assert.notDeepEqual(await temporaries(dir), [], "the killed run left temporaries behind");

    const again = await polypack(["copy", `${bench.proxy.host}/${repository}:v1`, destination]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await temporaries(dir), []);
    if (kind === ".cnb") {
      const inspected = JSON.parse(
        await run("skopeo", ["inspect", `oci-archive:${join(dir, "out.cnb")}:latest`]),
      );
      assert.deepEqual(
        inspected.Layers,
        image.manifest.layers.map((layer) => layer.digest),
      );
    } else {
      const index = JSON.parse(await readFile(join(dir, "out", "index.json"), "utf8")) as {
        manifests: unknown[];
      };
      assert.equal(index.manifests.length, 1);
    }
  });
}
