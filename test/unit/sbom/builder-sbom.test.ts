/**
 * A builder's SBOM (issue 11: "the builder and its buildpacks and lifecycle"): per platform, the
 * builder as root, the lifecycle, each buildpack in the layers, and only that platform's
 * dependencies; both documents validate against their schemas.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as CDX from "@cyclonedx/cyclonedx-library";
import { newIndex } from "../../../src/image/index-edit.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import { LayerSpool } from "../../../src/image/spool.js";
import { makeSboms } from "../../../src/sbom/sbom.js";
import { spdxValidator } from "../../../src/sbom/spdx.js";
import { tempDir } from "../../support/tmp.js";

const dependency = (arch: string, sha: string): string =>
  [
    "[[metadata.dependencies]]",
    'id = "jre"',
    'version = "21.0.1"',
    `arch = "${arch}"`,
    `uri = "https://example.com/jre-${arch}.tar.gz"`,
    `sha256 = "${sha.repeat(64)}"`,
    `purl = "pkg:generic/jre@21.0.1?arch=${arch}"`,
    "",
  ].join("\n");

const BUILDPACK_TOML = [
  'api = "0.10"',
  "[buildpack]",
  'id = "test/java"',
  'version = "3.1.0"',
  '[[targets]]\nos = "linux"\narch = "amd64"',
  '[[targets]]\nos = "linux"\narch = "arm64"',
  dependency("amd64", "a"),
  dependency("arm64", "b"),
].join("\n");

describe("builder SBOMs", () => {
  it("list the builder, its lifecycle and buildpacks, and each platform's own dependencies", async () => {
    const spool = await LayerSpool.create(`${await tempDir("polypack-builder-sbom-")}/layers`);
    const layer = await spool.write([
      {
        path: "cnb/buildpacks/test_java/3.1.0/buildpack.toml",
        type: "file",
        mode: 0o644,
        content: Buffer.from(BUILDPACK_TOML),
      },
    ]);
    const label = JSON.stringify({ lifecycle: { version: "0.20.1" }, images: [] });
    const images = (["amd64", "arm64"] as const).map((architecture) => ({
      artifact: mutateImage(emptyImage({ os: "linux", architecture }), {
        add: [{ layer }],
        labels: { "io.buildpacks.builder.metadata": label },
      }),
      platform: { os: "linux", architecture },
    }));
    const sboms = await makeSboms(newIndex(images), { name: "example.com/builders/java:1" });
    assert.deepEqual(
      sboms.map((s) => s.platform),
      ["linux/amd64", "linux/arm64"],
    );
    const cdxValidator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
    const spdx = spdxValidator();
    for (const [sbom, mine, other] of [
      [sboms[0]!, "a", "b"],
      [sboms[1]!, "b", "a"],
    ] as const) {
      assert.equal(await cdxValidator.validate(sbom.cyclonedx), null);
      const cdx = JSON.parse(sbom.cyclonedx) as {
        metadata: { component: { name: string; type: string } };
        components: { name: string; version: string; purl?: string }[];
      };
      assert.equal(cdx.metadata.component.name, "example.com/builders/java:1");
      assert.deepEqual(cdx.components.map((c) => `${c.name}@${c.version}`).sort(), [
        "buildpacks/lifecycle@0.20.1",
        "jre@21.0.1",
        "test/java@3.1.0",
      ]);
      assert.match(sbom.cyclonedx, new RegExp(mine.repeat(64)));
      assert.doesNotMatch(sbom.cyclonedx, new RegExp(other.repeat(64)));
      const document = JSON.parse(sbom.spdx) as unknown;
      assert.equal(spdx(document), true, JSON.stringify(spdx.errors));
      assert.doesNotMatch(sbom.spdx, new RegExp(other.repeat(64)));
    }
    await spool.remove();
  });
});
