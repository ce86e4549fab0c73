import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  builderMetadataLabel,
  orderFile,
  orderLabel,
  runFile,
  stackFile,
  systemFile,
} from "../../../src/builder/files.js";
import {
  checksumFor,
  expandLifecycleUri,
  parseLifecycleDescriptor,
  releaseUrls,
} from "../../../src/builder/lifecycle.js";
import { isPolypackError } from "../../../src/errors/index.js";
import { Platform } from "../../../src/oci/platform.js";

describe("builder files", () => {
  it("writes order.toml, run.toml and stack.toml as pack's TOML encoder lays them out", () => {
    assert.equal(
      orderFile(
        [
          {
            group: [
              { id: "a", version: "1" },
              { id: "b", version: "2", optional: true },
            ],
          },
        ],
        [],
      ),
      '[[order]]\n\n  [[order.group]]\n    id = "a"\n    version = "1"\n\n  [[order.group]]\n    id = "b"\n    version = "2"\n    optional = true\n',
    );
    const images = [
      { image: "r:1", mirrors: ["m:1", "n:1"] },
      { image: "s:1", mirrors: [] },
    ];
    assert.equal(
      runFile(images),
      '[[images]]\n  image = "r:1"\n  mirrors = ["m:1", "n:1"]\n\n[[images]]\n  image = "s:1"\n',
    );
    assert.equal(stackFile(images), '[run-image]\n  image = "r:1"\n  mirrors = ["m:1", "n:1"]\n');
    assert.match(
      systemFile([{ id: "pre", version: "1" }], []),
      /^\[system\]\n {2}\[system\.pre\]\n\n {4}\[\[system\.pre\.buildpacks\]\]\n {6}id = "pre"/,
    );
  });

  it("writes the labels as Go's encoding/json does, fields in pack's order", () => {
    assert.equal(
      orderLabel([{ group: [{ id: "a" }, { id: "b", version: "2", optional: true }] }]),
      '[{"group":[{"id":"a"},{"id":"b","version":"2","optional":true}]}]',
    );
    const metadata = builderMetadataLabel({
      description: "d",
      buildpacks: [{ id: "a", version: "1", homepage: "https://x" }],
      extensions: [],
      runImages: [{ image: "r:1", mirrors: [] }],
      lifecycle: {
        version: "0.20.1",
        api: { buildpack: "0.2", platform: "0.7" },
        apis: {
          buildpack: { deprecated: ["0.2"], supported: ["0.7"] },
          platform: { deprecated: [], supported: ["0.7"] },
        },
      },
      createdBy: { name: "polypack", version: "1.0.0" },
    });
    assert.equal(
      metadata,
      '{"description":"d","buildpacks":[{"id":"a","version":"1","homepage":"https://x"}],"extensions":null,"stack":{"runImage":{"image":"r:1","mirrors":null}},"lifecycle":{"version":"0.20.1","api":{"buildpack":"0.2","platform":"0.7"},"apis":{"buildpack":{"deprecated":["0.2"],"supported":["0.7"]},"platform":{"deprecated":null,"supported":["0.7"]}}},"createdBy":{"name":"polypack","version":"1.0.0"},"images":[{"image":"r:1","mirrors":null}]}',
    );
  });
});

describe("lifecycle releases", () => {
  it("names release archives as the lifecycle does (x86-64, not amd64), never falling back", () => {
    assert.deepEqual(releaseUrls("0.20.1", Platform.parse("linux/amd64"), "https://mirror/x/"), {
      archive: "https://mirror/x/v0.20.1/lifecycle-v0.20.1+linux.x86-64.tgz",
      checksums: "https://mirror/x/v0.20.1/lifecycle-v0.20.1-checksums.txt",
      name: "lifecycle-v0.20.1+linux.x86-64.tgz",
    });
    assert.match(
      releaseUrls("v0.20.1", Platform.parse("linux/arm64")).archive,
      /\/v0\.20\.1\/lifecycle-v0\.20\.1\+linux\.arm64\.tgz$/,
    );
    assert.throws(
      () => releaseUrls("0.20.1", Platform.parse("linux/riscv64")),
      (e) => isPolypackError(e, "LIFECYCLE_PLATFORM_MISSING"),
    );
    assert.equal(
      expandLifecycleUri("https://x/lc+{os}.{arch}.tgz", Platform.parse("linux/amd64")),
      "https://x/lc+linux.x86-64.tgz",
    );
  });

  it("reads checksums files and lifecycle.toml, with pack's earliest-API compatibility field", () => {
    const hex = "a".repeat(64);
    assert.equal(
      checksumFor(`${"b".repeat(64)}  other.tgz\n${hex}  lc.tgz\n`, "lc.tgz", "sums"),
      `sha256:${hex}`,
    );
    assert.throws(
      () => checksumFor("", "lc.tgz", "sums"),
      (e) => isPolypackError(e, "LIFECYCLE_INVALID"),
    );
    const descriptor = parseLifecycleDescriptor(
      '[apis.buildpack]\ndeprecated = ["0.2"]\nsupported = ["0.10", "0.9"]\n[apis.platform]\nsupported = ["0.13", "0.7"]\n[lifecycle]\nversion = "0.20.1"\n',
      "x",
    );
    assert.deepEqual(descriptor.api, { buildpack: "0.2", platform: "0.7" });
    assert.equal(descriptor.version, "0.20.1");
    const legacy = parseLifecycleDescriptor(
      '[api]\nbuildpack = "0.2"\nplatform = "0.3"\n[lifecycle]\nversion = "0.9.0"\n',
      "x",
    );
    assert.deepEqual(legacy.apis.platform.supported, ["0.3"]);
    assert.throws(
      () => parseLifecycleDescriptor("[lifecycle]\n", "x"),
      (e) => isPolypackError(e, "LIFECYCLE_INVALID"),
    );
  });
});
