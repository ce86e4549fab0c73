import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBuilderConfig } from "../../../src/builder/config.js";
import { isPolypackError } from "../../../src/errors/index.js";

const FULL = `
description = "test"
[[buildpacks]]
id = "a/b"
uri = "docker://registry/bp:1"
[[buildpacks]]
image = "registry/other:2"
[[extensions]]
uri = "./ext"
[[order]]
[[order.group]]
id = "a/b"
version = "1.0"
[[order.group]]
id = "c"
optional = true
[[order-extensions]]
[[order-extensions.group]]
id = "e"
[lifecycle]
version = "0.20.1"
[build]
image = "registry/build:1"
[[build.env]]
name = "BP_X"
value = "1"
suffix = "default"
[[run.images]]
image = "registry/run:1"
mirrors = ["mirror/run:1"]
[system.pre]
[[system.pre.buildpacks]]
id = "pre"
[[targets]]
os = "linux"
arch = "arm64"
[[targets.distros]]
name = "ubuntu"
version = "22.04"
`;

function problem(text: string): string {
  try {
    parseBuilderConfig(text, "/x/builder.toml");
  } catch (error) {
    assert.ok(isPolypackError(error), String(error));
    return `${error.code}: ${error.message}`;
  }
  assert.fail("expected a problem");
}

describe("parseBuilderConfig", () => {
  it("reads every key pack reads", () => {
    const config = parseBuilderConfig(FULL, "/x/builder.toml");
    assert.equal(config.description, "test");
    assert.deepEqual(
      config.buildpacks.map((b) => [b.id, b.location, b.isImage]),
      [
        ["a/b", "docker://registry/bp:1", false],
        [undefined, "registry/other:2", true],
      ],
    );
    assert.equal(config.extensions[0]?.location, "./ext");
    assert.deepEqual(config.order, [
      {
        group: [
          { id: "a/b", version: "1.0" },
          { id: "c", optional: true },
        ],
      },
    ]);
    assert.deepEqual(config.orderExtensions, [{ group: [{ id: "e" }] }]);
    assert.deepEqual(config.lifecycle, { version: "0.20.1" });
    assert.equal(config.buildImage, "registry/build:1");
    assert.deepEqual(config.buildEnv, [{ name: "BP_X", value: "1", suffix: "default" }]);
    assert.deepEqual(config.runImages, [{ image: "registry/run:1", mirrors: ["mirror/run:1"] }]);
    assert.deepEqual(config.system.pre, [{ id: "pre" }]);
    assert.deepEqual(config.targets, [
      { os: "linux", arch: "arm64", distros: [{ name: "ubuntu", version: "22.04" }] },
    ]);
    assert.equal(config.dir, "/x");
  });

  it("reads the legacy [stack] table", () => {
    const config = parseBuilderConfig(
      `[stack]\nid = "io.buildpacks.stacks.jammy"\nbuild-image = "b:1"\nrun-image = "r:1"\nrun-image-mirrors = ["m:1"]\n[[order]]\n[[order.group]]\nid = "x"\n`,
      "/x/builder.toml",
    );
    assert.equal(config.buildImage, "b:1");
    assert.deepEqual(config.runImages, [{ image: "r:1", mirrors: ["m:1"] }]);
    assert.equal(config.stackId, "io.buildpacks.stacks.jammy");
  });

  it("names the file, line and key of each problem", () => {
    assert.match(
      problem(`[[order]]\n[[order.group]]\nid = "x"\n[[run.images]]\nimage = "r"\n`),
      /BUILDER_CONFIG_INVALID: \/x\/builder.toml(:\d+)?: build: no build image/,
    );
    assert.match(
      problem(
        `[[buildpacks]]\nuri = "a"\nimage = "b"\n[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\nid = "x"\n`,
      ),
      /:1: \[\[buildpacks\]\]\[0\]: give exactly one of uri and image/,
    );
    assert.match(
      problem(
        `[build]\nimage = "b"\n[[build.env]]\nname = "X"\nvalue = "1"\nsuffix = "later"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\nid = "x"\n`,
      ),
      /suffix: "later" is not one of override, default, prepend, append/,
    );
    assert.match(
      problem(`[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\nid = ".."\n`),
      /BUILDPACK_ID_INVALID: .*\[\[order\]\]\[0\]\.group\[0\]\.id/,
    );
    assert.match(problem(`[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n`), /no \[\[order\]\]/);
    assert.match(
      problem(
        `[build]\nimage = 1\n[lifecycle]\nversion = "1"\nuri = "x"\n[[order]]\n[[order.group]]\nid = "x"\n`,
      ),
      /has 4 problems:\n.*version or uri, not both\n.*\[build\]\.image: expected a string/,
    );
    assert.match(problem(`[build\n`), /BUILDER_CONFIG_INVALID: \/x\/builder.toml:1: invalid TOML/);
  });
});
