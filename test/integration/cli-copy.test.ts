import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LayoutTarget } from "../../src/layout/layout-target.js";
import { startRegistry, type RegistryHandle } from "../support/registry.js";
import { writeRandomIndex, type RandomIndex } from "../support/images.js";
import { tempDir } from "../support/tmp.js";
import { run } from "../support/tools.js";
import { polypack } from "../support/cli.js";
import { fixture } from "../support/fixtures.js";
import { Digest } from "../../src/oci/digest.js";

let registry: RegistryHandle;
let layout: string;
let seeded: RandomIndex;
let work: string;

before(async () => {
  registry = await startRegistry();
  work = await tempDir();
  layout = join(work, "layout");
  const target = await LayoutTarget.create(layout);
  seeded = await writeRandomIndex(target, {
    platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7"],
    layerSizes: [200_000, 3000],
    tag: "v1",
  });
  await target.commit();
});
after(() => registry.stop());

test("copies a multi-arch index from a layout to a registry and skopeo sees every platform", async () => {
  const result = await polypack(["--json", "copy", `oci:${layout}:v1`, `${registry.host}/cli/app:v1`]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as {
    root: { digest: string };
    manifests: number;
    blobs: { uploaded: number };
  };
  assert.equal(report.root.digest, seeded.descriptor.digest);
  assert.equal(report.manifests, 4);
  assert.equal(report.blobs.uploaded, 3 * 3, "3 configs + 6 layers");

  const raw = JSON.parse(
    await run("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${registry.host}/cli/app:v1`]),
  ) as {
    manifests: { platform: { architecture: string; variant?: string } }[];
  };
  assert.deepEqual(
    raw.manifests.map((m) => m.platform.architecture + (m.platform.variant ? `/${m.platform.variant}` : "")),
    ["amd64", "arm64", "arm/v7"],
  );
  const arm = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--override-arch",
      "arm64",
      `docker://${registry.host}/cli/app:v1`,
    ]),
  ) as { Architecture: string };
  assert.equal(arm.Architecture, "arm64");
});

test("registry to registry copies mount blobs, and a second copy is up to date", async () => {
  await polypack(["copy", `oci:${layout}:v1`, `${registry.host}/cli/src:v1`]);
  const first = await polypack([
    "--json",
    "copy",
    `${registry.host}/cli/src:v1`,
    `${registry.host}/cli/dst:v1`,
  ]);
  assert.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout) as { blobs: { mounted: number; uploaded: number } };
  assert.equal(report.blobs.mounted, 9);
  assert.equal(report.blobs.uploaded, 0);
  const second = await polypack([
    "--json",
    "copy",
    `${registry.host}/cli/src:v1`,
    `${registry.host}/cli/dst:v2`,
  ]);
  assert.equal((JSON.parse(second.stdout) as { upToDate: boolean }).upToDate, true);
  const raw = await run("skopeo", [
    "inspect",
    "--tls-verify=false",
    "--raw",
    `docker://${registry.host}/cli/dst:v2`,
  ]);
  assert.equal(Digest.of(raw).toString(), seeded.descriptor.digest, "the tag points at the same index bytes");
});

test("registry → .cnb → layout round trip keeps the index digest; skopeo copies the .cnb to the registry", async () => {
  await polypack(["copy", `oci:${layout}:v1`, `${registry.host}/cli/rt:v1`]);
  const cnb = join(work, "app.cnb");
  const toFile = await polypack(["copy", `${registry.host}/cli/rt:v1`, `oci-archive:${cnb}:app`]);
  assert.equal(toFile.code, 0, toFile.stderr);
  const back = join(work, "back");
  const toLayout = await polypack(["--json", "copy", cnb, `oci:${back}:again`]);
  assert.equal(toLayout.code, 0, toLayout.stderr);
  assert.equal(
    (JSON.parse(toLayout.stdout) as { root: { digest: string } }).root.digest,
    seeded.descriptor.digest,
  );

  await run("skopeo", [
    "copy",
    "--all",
    "--dest-tls-verify=false",
    `oci-archive:${cnb}:app`,
    `docker://${registry.host}/cli/fromcnb:app`,
  ]);
  const raw = JSON.parse(
    await run("skopeo", [
      "inspect",
      "--tls-verify=false",
      "--raw",
      `docker://${registry.host}/cli/fromcnb:app`,
    ]),
  ) as {
    manifests: unknown[];
  };
  assert.equal(raw.manifests.length, 3);
});

test("manifest inspect prints platforms as text and JSON from registry, layout and .cnb", async () => {
  await polypack(["copy", `oci:${layout}:v1`, `${registry.host}/cli/inspect:v1`]);
  const text = await polypack(["manifest", "inspect", `${registry.host}/cli/inspect:v1`]);
  assert.equal(text.code, 0, text.stderr);
  for (const platform of ["linux/amd64", "linux/arm64", "linux/arm/v7"])
    assert.match(text.stdout, new RegExp(platform));
  const json = await polypack(["--json", "manifest", "inspect", `oci:${layout}:v1`]);
  const parsed = JSON.parse(json.stdout) as { kind: string; manifests: { platform: string }[] };
  assert.equal(parsed.kind, "index");
  assert.deepEqual(
    parsed.manifests.map((m) => m.platform),
    ["linux/amd64", "linux/arm64", "linux/arm/v7"],
  );
  const image = await polypack(["--json", "manifest", "inspect", fixture("pack/hello-universe.cnb")]);
  assert.equal(image.code, 0, image.stderr);
  const parsedImage = JSON.parse(image.stdout) as { kind: string; labels: Record<string, string> };
  assert.equal(parsedImage.kind, "image");
  assert.ok(parsedImage.labels["io.buildpacks.buildpackage.metadata"]);
});

test("bad input gives a typed error, a non-zero exit and no stack trace", async () => {
  const cases: [string[], string][] = [
    [["manifest", "inspect", "Bad/UPPER:ref"], "REFERENCE_INVALID"],
    [["manifest", "inspect", `${registry.host}/cli/missing:nope`], "REGISTRY_NOT_FOUND"],
    [["manifest", "inspect", `${registry.host}/cli/app@sha256:abc`], "REFERENCE_INVALID"],
    [["copy", `oci:${join(work, "nowhere")}:x`, `oci:${join(work, "out")}:x`], "PATH_NOT_FOUND"],
  ];
  for (const [args, code] of cases) {
    const result = await polypack(args);
    assert.notEqual(result.code, 0, args.join(" "));
    assert.match(result.stderr, new RegExp(`error\\[${code}`), result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  }
  const json = await polypack(["--json", "manifest", "inspect", "Bad/UPPER:ref"]);
  assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, "REFERENCE_INVALID");
});
