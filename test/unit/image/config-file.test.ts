import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeCompatibleStacks, resolvedStacks } from "../../../src/buildpack/stacks.js";
import type { Layer } from "../../../src/image/blob.js";
import { emptyImage, mutateImage } from "../../../src/image/mutate.js";
import type { PlatformJSON } from "../../../src/oci/platform.js";

const CREATED = new Date("1980-01-01T00:00:01Z");

/** The config bytes of a buildpackage-like image: an empty base, layers appended, labels set. */
async function encodeImageConfig(
  platform: PlatformJSON,
  diffIDs: string[],
  labels: Record<string, string>,
  created: Date,
): Promise<Buffer> {
  const layer = (diffID: string): Layer => ({
    descriptor: { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: diffID, size: 1 },
    diffID,
    open: () => Promise.reject(new Error("not read")),
  });
  const image = mutateImage(emptyImage(platform), {
    add: diffIDs.map((diffID) => ({ layer: layer(diffID) })),
    labels,
    created,
  });
  const blob = await image.configBlob();
  const chunks: Buffer[] = [];
  for await (const chunk of await blob.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test("config fields in go-containerregistry's order, one history entry per layer", async () => {
  const config = await encodeImageConfig(
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

test("variant and os.version appear for targets that have them", async () => {
  const config = JSON.parse(
    (
      await encodeImageConfig(
        { architecture: "arm", os: "linux", variant: "v7", "os.version": "22.04" },
        ["sha256:1"],
        { a: "1" },
        CREATED,
      )
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

test("an empty history or label set is left out, as Go's omitempty leaves it", async () => {
  const config = (
    await encodeImageConfig({ architecture: "amd64", os: "linux" }, [], {}, CREATED)
  ).toString();
  assert.equal(
    config,
    '{"architecture":"amd64","created":"1980-01-01T00:00:01Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}',
  );
});
