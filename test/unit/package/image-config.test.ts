import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeImageConfig } from "../../../src/package/image-config.js";
import { mergeCompatibleStacks, resolvedStacks } from "../../../src/package/stacks.js";

const CREATED = new Date("1980-01-01T00:00:01Z");

test("config fields in go-containerregistry's order, one history entry per layer", () => {
  const config = encodeImageConfig(
    { architecture: "arm64", os: "linux" },
    ["sha256:1", "sha256:2"],
    { b: "2", a: "<1>" },
    CREATED,
  );
  assert.equal(
    config.toString(),
    '{"architecture":"arm64","created":"1980-01-01T00:00:01Z","history":[{"created":"1980-01-01T00:00:01Z"},' +
      '{"created":"1980-01-01T00:00:01Z"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:1","sha256:2"]},' +
      '"config":{"Labels":{"a":"\\u003c1\\u003e","b":"2"}}}',
  );
});

test("variant and os.version appear for targets that have them", () => {
  const config = JSON.parse(
    encodeImageConfig(
      { architecture: "arm", os: "linux", variant: "v7", "os.version": "22.04" },
      [],
      {},
      CREATED,
    ).toString(),
  ) as Record<string, unknown>;
  assert.deepEqual(Object.keys(config), [
    "architecture",
    "created",
    "history",
    "os",
    "rootfs",
    "config",
    "os.version",
    "variant",
  ]);
  assert.equal(config["variant"], "v7");
  assert.equal(config["os.version"], "22.04");
});

test("stacks merge as pack merges them: wildcards yield the other side, ids intersect, mixins unite", () => {
  assert.deepEqual(mergeCompatibleStacks([{ id: "*" }], [{ id: "a" }, { id: "b" }]), [
    { id: "a" },
    { id: "b" },
  ]);
  assert.deepEqual(mergeCompatibleStacks([{ id: "a" }], [{ id: "*" }]), [{ id: "a" }]);
  assert.deepEqual(mergeCompatibleStacks([{ id: "*" }, { id: "a" }], [{ id: "*" }]), [{ id: "*" }]);
  assert.deepEqual(
    mergeCompatibleStacks(
      [{ id: "a", mixins: ["z", "build:y"] }, { id: "b" }],
      [{ id: "c" }, { id: "a", mixins: ["z", "m"] }],
    ),
    [{ id: "a", mixins: ["build:y", "m", "z"] }],
  );
  assert.deepEqual(resolvedStacks([], [[{ id: "a" }, { id: "b" }], [], [{ id: "b" }]]), [{ id: "b" }]);
});
