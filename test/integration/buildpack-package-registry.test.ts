/**
 * End to end against a real registry (docker-registry on 127.0.0.1): skopeo copies a packaged
 * layout as a multi-arch index, `--publish` pushes children by digest, the index, then the tags
 * last, and `--by-digest` pushes from two "machines" are joined by `polypack manifest create`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex } from "../../src/oci/manifest.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { copyExample, polypackOk, readJSON } from "./buildpack-package-support.js";

const TARGETS = ["--target", "linux/amd64", "--target", "linux/arm64"];

async function inspectRaw(reference: string): Promise<{ raw: string; index: ImageIndex }> {
  const raw = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`]);
  return { raw, index: JSON.parse(raw) as ImageIndex };
}

function platforms(index: ImageIndex): string[] {
  return index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`);
}

describe("buildpack package with a registry", () => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let work: string;
  let bp: string;
  let layoutIndexDigest: string;
  let layoutChildren: string[];

  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    work = await tempDir("polypack-registry-e2e-");
    bp = await copyExample(join(work, "bp"));
    const layout = join(work, "layout");
    await polypackOk([
      "buildpack",
      "package",
      "hello",
      "--path",
      bp,
      ...TARGETS,
      "--output",
      layout,
      "--format",
      "layout",
    ]);
    const top = await readJSON<ImageIndex>(join(layout, "index.json"));
    layoutIndexDigest = top.manifests[0]!.digest;
    const index = await readJSON<ImageIndex>(join(layout, "blobs", "sha256", layoutIndexDigest.slice(7)));
    layoutChildren = index.manifests.map((m) => m.digest);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test("skopeo copies the layout's index to the registry as a multi-arch image", async () => {
    await run("skopeo", [
      "copy",
      "--all",
      "--dest-tls-verify=false",
      `oci:${join(work, "layout")}:latest`,
      `docker://${registry.host}/hello/skopeo:1`,
    ]);
    const { index } = await inspectRaw(`${registry.host}/hello/skopeo:1`);
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(platforms(index), ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      layoutChildren,
    );
  });

  test("--publish pushes blobs, children by digest, the index, and only then every tag", async () => {
    proxy.requests.length = 0;
    const name = `${proxy.host}/hello/published:1.0`;
    const outcome = await polypackOk([
      "--insecure-registry",
      proxy.host,
      "--json",
      "buildpack",
      "package",
      name,
      "--path",
      bp,
      ...TARGETS,
      "--publish",
      "--tag",
      "latest",
    ]);
    const report = JSON.parse(outcome.stdout) as { digest: string; tags: string[] };
    assert.equal(report.digest, layoutIndexDigest, "the same index as the layout's");
    assert.deepEqual(report.tags, ["1.0", "latest"]);

    const writes = proxy.requests
      .filter((r) => r.method === "PUT" || r.method === "POST" || r.method === "PATCH")
      .map((r) => {
        const manifest = /\/manifests\/(.+)$/.exec(r.path)?.[1];
        return manifest === undefined ? "blob" : manifest;
      });
    const firstManifest = writes.findIndex((w) => w !== "blob");
    const indexAt = writes.indexOf(layoutIndexDigest);
    assert.ok(firstManifest > 0, writes.join(" "));
    assert.deepEqual(writes.slice(firstManifest, indexAt + 1), [...layoutChildren, layoutIndexDigest]);
    // Then each child's SBOMs as referrers (their blobs, manifests and the referrers tag scheme),
    // and only then the tags.
    const referrers = writes.slice(indexAt + 1, -2);
    assert.deepEqual(writes.slice(-2), ["1.0", "latest"]);
    const schemeTags = new Set(referrers.filter((w) => w.startsWith("sha256-")));
    assert.deepEqual(
      [...schemeTags].sort(),
      layoutChildren.map((d) => d.replace("sha256:", "sha256-")).sort(),
      writes.join(" "),
    );
    assert.ok(
      referrers.every((w) => w === "blob" || w.startsWith("sha256:") || schemeTags.has(w)),
      writes.join(" "),
    );

    for (const tag of ["1.0", "latest"]) {
      const { index } = await inspectRaw(`${registry.host}/hello/published:${tag}`);
      assert.deepEqual(platforms(index), ["linux/amd64", "linux/arm64"]);
    }
  });

  test("--arch-tags also tags each platform's image, after the index tag", async () => {
    const repo = `${registry.host}/hello/arch-tags`;
    await polypackOk([
      "--insecure-registry",
      registry.host,
      "buildpack",
      "package",
      `${repo}:2.0`,
      "--path",
      bp,
      ...TARGETS,
      "--publish",
      "--arch-tags",
    ]);
    for (const [arch, digest] of [
      ["amd64", layoutChildren[0]],
      ["arm64", layoutChildren[1]],
    ] as const) {
      const { raw } = await inspectRaw(`${repo}:2.0-linux-${arch}`);
      assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, digest);
    }
    const { index } = await inspectRaw(`${repo}:2.0`);
    assert.deepEqual(platforms(index), ["linux/amd64", "linux/arm64"]);
  });

  test("--by-digest on two machines, joined by manifest create, gives the same index", async () => {
    const repo = `${registry.host}/hello/joined`;
    const digests: string[] = [];
    for (const target of ["linux/amd64", "linux/arm64"]) {
      const machine = await copyExample(join(work, `machine-${target.replace("/", "-")}`));
      const outcome = await polypackOk([
        "--insecure-registry",
        registry.host,
        "--json",
        "buildpack",
        "package",
        repo,
        "--path",
        machine,
        "--target",
        target,
        "--publish",
        "--by-digest",
      ]);
      const report = JSON.parse(outcome.stdout) as { digest: string; mediaType: string; tags: string[] };
      assert.equal(
        report.mediaType,
        "application/vnd.oci.image.manifest.v1+json",
        "one target: an image, no index",
      );
      assert.deepEqual(report.tags, []);
      digests.push(report.digest);
    }
    assert.deepEqual(digests, layoutChildren, "each machine's image equals the one packaged together");
    const tags = await fetch(`${registry.url}/v2/hello/joined/tags/list`);
    assert.ok(
      tags.status === 404 || ((await tags.json()) as { tags: string[] | null }).tags === null,
      "no tag yet",
    );

    const joined = await polypackOk([
      "--insecure-registry",
      registry.host,
      "--json",
      "manifest",
      "create",
      "--publish",
      `${repo}:1.0`,
      ...digests.map((d) => `${repo}@${d}`),
    ]);
    const result = JSON.parse(joined.stdout) as { index: { digest: string }; tags: string[] };
    assert.deepEqual(result.tags, ["1.0"]);
    const { index } = await inspectRaw(`${repo}:1.0`);
    assert.deepEqual(platforms(index), ["linux/amd64", "linux/arm64"]);
    assert.equal(result.index.digest, layoutIndexDigest);
  });
});
