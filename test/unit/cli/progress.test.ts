import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressReporter } from "../../../src/cli/progress.js";
import { renderTable, formatBytes } from "../../../src/cli/table.js";
import type { Descriptor } from "../../../src/oci/descriptor.js";

const ESC = String.fromCharCode(27);
const big: Descriptor = { mediaType: "x", digest: `sha256:${"a".repeat(64)}`, size: 8 * 1024 * 1024 };
const small: Descriptor = { mediaType: "x", digest: `sha256:${"b".repeat(64)}`, size: 10 };

function record(
  isTTY: boolean,
  options: ConstructorParameters<typeof ProgressReporter>[1] = {},
): { out: string[]; reporter: ProgressReporter } {
  const out: string[] = [];
  return { out, reporter: new ProgressReporter({ isTTY, write: (text) => out.push(text) }, options) };
}

test("plain output for CI: one line per finished transfer, no escape codes", () => {
  const { out, reporter } = record(false);
  reporter.onEvent({ type: "plan", manifests: 1, blobs: 2, bytes: big.size + small.size });
  reporter.onEvent({ type: "blob-start", descriptor: big });
  reporter.onEvent({ type: "blob-progress", descriptor: big, bytesDone: 1024 });
  reporter.onEvent({ type: "blob-done", descriptor: big, result: "uploaded" });
  reporter.onEvent({ type: "blob-done", descriptor: small, result: "exists" });
  reporter.onEvent({ type: "tagged", descriptor: big, tags: ["v1"] });
  reporter.finish();
  const text = out.join("");
  assert.ok(!text.includes(ESC), "no escape codes");
  assert.match(text, /copying 1 manifest and 2 blobs/);
  assert.match(text, /blob sha256:aaaaaaaaaaaa 8\.0 MiB uploaded/);
  assert.match(text, /blob sha256:bbbbbbbbbbbb 10 B already there/);
  assert.match(text, /tagged v1/);
});

test("a terminal gets redrawn bars for large transfers and the total, cleared at the end", () => {
  const { out, reporter } = record(true);
  reporter.onEvent({ type: "plan", manifests: 1, blobs: 1, bytes: big.size });
  reporter.onEvent({ type: "blob-start", descriptor: big });
  reporter.onEvent({ type: "blob-progress", descriptor: big, bytesDone: big.size / 2 });
  const drawn = out.join("");
  assert.match(drawn, /sha256:aaaaaaaaaaaa\s+\[=+\s+\]\s+50% 4\.0 MiB \/ 8\.0 MiB/);
  assert.match(drawn, /total\s+\[/);
  reporter.onEvent({ type: "blob-done", descriptor: big, result: "uploaded" });
  reporter.finish();
  assert.equal(out.at(-1), `${ESC}[1A${ESC}[J`, "bars removed");
});

test("dependency downloads are reported like blobs", () => {
  const { out, reporter } = record(false);
  const base = {
    id: "node",
    version: "20.1.0",
    target: "linux/arm64",
    url: "https://x/y",
    digest: `sha256:${"c".repeat(64)}`,
  };
  reporter.onDependency({ ...base, type: "start", bytesDone: 0, size: 2 * 1024 * 1024 });
  reporter.onDependency({ ...base, type: "done", bytesDone: 2 * 1024 * 1024, size: 2 * 1024 * 1024 });
  reporter.onDependency({ ...base, type: "cached", bytesDone: 0, size: undefined });
  assert.deepEqual(out, [
    "downloaded node 20.1.0 for linux/arm64 (2.0 MiB)\n",
    "cached node 20.1.0 for linux/arm64\n",
  ]);
});

test("tables pad columns and sizes read well", () => {
  assert.equal(
    renderTable(
      ["A", "BB"],
      [
        ["xxx", "y"],
        ["z", "w"],
      ],
    ),
    "A    BB\nxxx  y\nz    w",
  );
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
});

test("a local write: 'written', not 'uploaded'; each blob named by its target; one 'tagged' line with every tag", () => {
  const manifest: Descriptor = { mediaType: "m", digest: `sha256:${"d".repeat(64)}`, size: 400 };
  const index: Descriptor = { mediaType: "i", digest: `sha256:${"e".repeat(64)}`, size: 300 };
  const names = new Map([
    [big.digest, "linux/arm64 layer"],
    [small.digest, "linux/amd64, linux/arm64 config"],
    [manifest.digest, "linux/arm64 manifest"],
  ]);
  const { out, reporter } = record(false, { local: true, names, otherManifest: "index" });
  reporter.onEvent({ type: "plan", manifests: 2, blobs: 2, bytes: big.size + small.size });
  reporter.onEvent({ type: "blob-done", descriptor: big, result: "uploaded" });
  reporter.onEvent({ type: "blob-done", descriptor: small, result: "moved" });
  reporter.onEvent({ type: "manifest-done", descriptor: manifest });
  reporter.onEvent({ type: "manifest-done", descriptor: index });
  reporter.onEvent({ type: "tagged", descriptor: index, tags: ["1.0", "latest"] });
  reporter.tagged(["1.0", "1.0-linux-arm64"]);
  reporter.finish();
  assert.deepEqual(out, [
    "writing 2 manifests and 2 blobs (8.0 MiB)\n",
    "blob linux/arm64 layer sha256:aaaaaaaaaaaa 8.0 MiB written\n",
    "blob linux/amd64, linux/arm64 config sha256:bbbbbbbbbbbb 10 B moved in\n",
    "linux/arm64 manifest sha256:dddddddddddd written\n",
    "index sha256:eeeeeeeeeeee written\n",
    "tagged 1.0, latest, 1.0-linux-arm64\n",
  ]);
});
