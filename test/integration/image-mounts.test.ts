/**
 * The image model writes by reference: a composite whose dependencies are images in the same
 * registry, and an index joining images of another repository, are published without a byte of
 * those images' layers being uploaded again. Every request goes through a proxy in front of the
 * real registry that counts the bytes clients upload.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ImageIndex, ImageManifest } from "../../src/oci/manifest.js";
import { startFaultProxy, type FaultProxy, type RecordedRequest } from "../support/fault-proxy.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { tempDir } from "../support/tmp.js";
import { buildpackToml, script, targetsToml, writeTree } from "../unit/package/helpers.js";
import { polypackOk } from "./buildpack-package-support.js";

const ARCHES = ["amd64", "arm64"] as const;

/** Bytes of blob content uploaded (PATCH and PUT bodies of upload sessions). */
function uploadedBlobBytes(requests: readonly RecordedRequest[]): number {
  return requests
    .filter((r) => /\/blobs\/uploads\//.test(r.path) && (r.method === "PATCH" || r.method === "PUT"))
    .reduce((sum, r) => sum + r.bodyBytes, 0);
}

/** The digests whose upload session was finished with their bytes (`PUT ...?digest=`). */
function uploadedDigests(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((r) => r.method === "PUT" && /\/blobs\/uploads\//.test(r.path))
    .map((r) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(r.path)?.[1] ?? ""));
}

describe("writing by reference: nothing a registry already has is uploaded again", () => {
  let work: string;
  let registry: RegistryHandle;
  let proxy: FaultProxy;

  const fetchJSON = async <T>(path: string, accept: string): Promise<{ value: T; size: number }> => {
    const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
    assert.equal(response.status, 200, path);
    const bytes = Buffer.from(await response.arrayBuffer());
    return { value: JSON.parse(bytes.toString()) as T, size: bytes.length };
  };

  before(async () => {
    work = await tempDir("polypack-mounts-");
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    for (const [name, id, version] of [
      ["child-a", "example/child-a", "1.0.0"],
      ["child-b", "example/child-b", "2.0.0"],
    ] as const) {
      await writeTree(
        {
          "buildpack.toml": buildpackToml(targetsToml("linux/amd64", "linux/arm64"), id, version),
          // Some bulk, so that a re-upload could not hide among the small blobs.
          "share/data.txt": `${name} `.repeat(60_000),
          ...Object.fromEntries(
            ARCHES.flatMap((arch) => [
              [`linux/${arch}/bin/build`, script(`echo ${name} ${arch}`)],
              [`linux/${arch}/bin/detect`, script(`echo ${name} ${arch}`)],
            ]),
          ),
        },
        join(work, name),
      );
      await polypackOk([
        "buildpack",
        "package",
        `${registry.host}/children/${name}:1`,
        "--path",
        join(work, name),
        "--publish",
      ]);
    }
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test("a composite of images in the same registry uploads only its own layer, configs and manifests", async () => {
    await writeTree(
      {
        "composite/buildpack.toml": buildpackToml(
          `[[order]]\n  [[order.group]]\n    id = "example/child-a"\n    version = "1.0.0"\n  [[order.group]]\n    id = "example/child-b"\n    version = "2.0.0"\n`,
          "example/composite",
          "3.0.0",
        ),
      },
      work,
    );
    const config = join(work, "package.toml");
    await writeFile(
      config,
      `[buildpack]\nuri = "composite"\n\n` +
        `[[dependencies]]\nimage = "${proxy.host}/children/child-a:1"\n` +
        `[[dependencies]]\nimage = "${proxy.host}/children/child-b:1"\n\n` +
        targetsToml("linux/amd64", "linux/arm64"),
    );
    proxy.requests.length = 0;
    await polypackOk([
      "buildpack",
      "package",
      `${proxy.host}/composite/bp:3`,
      "--config",
      config,
      "--publish",
    ]);

    const accept = "application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json";
    const { value: index } = await fetchJSON<ImageIndex>("/v2/composite/bp/manifests/3", accept);
    const own = new Map<string, number>();
    const childLayers = new Set<string>();
    for (const entry of index.manifests) {
      const { value: image } = await fetchJSON<ImageManifest>(
        `/v2/composite/bp/manifests/${entry.digest}`,
        accept,
      );
      assert.equal(image.layers.length, 3, "child-a, child-b, then the composite's own layer");
      for (const layer of image.layers.slice(0, 2)) childLayers.add(layer.digest);
      for (const blob of [image.layers[2]!, image.config]) own.set(blob.digest, blob.size);
      // The platform's SBOMs (referrers, found through the registry's tag scheme) are its own too.
      const { value: referrers } = await fetchJSON<ImageIndex>(
        `/v2/composite/bp/manifests/${entry.digest.replace(":", "-")}`,
        accept,
      );
      assert.equal(referrers.manifests.length, 2, "a CycloneDX and an SPDX document");
      for (const referrer of referrers.manifests) {
        const { value: sbom } = await fetchJSON<ImageManifest>(
          `/v2/composite/bp/manifests/${referrer.digest}`,
          accept,
        );
        for (const blob of [...sbom.layers, sbom.config]) own.set(blob.digest, blob.size);
      }
    }
    const uploaded = uploadedDigests(proxy.requests);
    for (const digest of childLayers) {
      assert.ok(!uploaded.includes(digest), `child layer ${digest} was not uploaded`);
      assert.ok(
        proxy.requests.some(
          (r) => r.method === "POST" && r.path.includes(`mount=${encodeURIComponent(digest)}`),
        ),
        `child layer ${digest} was mounted`,
      );
    }
    const ownBytes = [...own.values()].reduce((sum, size) => sum + size, 0);
    assert.equal(
      uploadedBlobBytes(proxy.requests),
      ownBytes,
      "only the composite's own layers, configs and SBOMs moved",
    );
  });

  test("manifest create joining images of another repository uploads no blob at all", async () => {
    const accept = "application/vnd.oci.image.index.v1+json";
    const { value: index } = await fetchJSON<ImageIndex>("/v2/children/child-a/manifests/1", accept);
    const sources = index.manifests.map((entry) => `${proxy.host}/children/child-a@${entry.digest}`);
    proxy.requests.length = 0;
    await polypackOk(["manifest", "create", "--publish", `${proxy.host}/joined/child-a:1`, ...sources]);
    assert.equal(uploadedBlobBytes(proxy.requests), 0, "every blob mounted");
    assert.deepEqual(uploadedDigests(proxy.requests), []);
    const { value: joined } = await fetchJSON<ImageIndex>("/v2/joined/child-a/manifests/1", accept);
    assert.deepEqual(
      joined.manifests.map((m) => [m.digest, m.platform]),
      index.manifests.map((m) => [m.digest, m.platform]),
      "the same children, with their platforms",
    );
  });
});
