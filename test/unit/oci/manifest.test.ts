import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildImageIndex, buildImageManifest, encodeJSON, parseManifest } from "../../../src/oci/manifest.js";
import { descriptorFor } from "../../../src/oci/descriptor.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";

const config = descriptorFor(MediaType.ociConfig, Buffer.from("{}"));
const layer = descriptorFor(MediaType.ociLayerGzip, Buffer.from("layer"));

test("builds an image manifest with the exact canonical JSON", () => {
  const bytes = encodeJSON(buildImageManifest(config, [layer]));
  assert.equal(
    bytes.toString(),
    `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{"mediaType":"${MediaType.ociConfig}","digest":"${config.digest}","size":2},"layers":[{"mediaType":"${MediaType.ociLayerGzip}","digest":"${layer.digest}","size":5}]}`,
  );
  const parsed = parseManifest(bytes, undefined, "test");
  assert.equal(parsed.kind, "image");
  assert.equal(parsed.mediaType, MediaType.ociManifest);
});

test("parses indexes and Docker manifest lists", () => {
  const child = {
    ...descriptorFor(MediaType.ociManifest, Buffer.from("x")),
    platform: { os: "linux", architecture: "arm64" },
  };
  const index = parseManifest(encodeJSON(buildImageIndex([child])), undefined, "test");
  assert.equal(index.kind, "index");
  const list = parseManifest(
    encodeJSON({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [child] }),
    undefined,
    "test",
  );
  assert.equal(list.kind, "index");
  assert.equal(list.mediaType, MediaType.dockerManifestList);
});

test("takes the media type from the descriptor when the body has none", () => {
  const body = encodeJSON({ schemaVersion: 2, config, layers: [layer] });
  assert.equal(parseManifest(body, MediaType.dockerManifest, "test").mediaType, MediaType.dockerManifest);
});

test("refuses invalid manifests with typed errors", () => {
  const cases: [string, ErrorCode][] = [
    ["not json", "MANIFEST_INVALID"],
    ["[]", "MANIFEST_INVALID"],
    ['{"schemaVersion":1}', "MANIFEST_UNSUPPORTED"],
    [`{"schemaVersion":2,"mediaType":"${MediaType.ociIndex}"}`, "MANIFEST_INVALID"],
    [
      `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}`,
      "DIGEST_INVALID",
    ],
    [
      `{"schemaVersion":2,"mediaType":"${MediaType.ociManifest}","config":${JSON.stringify(config)},"layers":[{"mediaType":"x","digest":"${layer.digest}","size":-1}]}`,
      "DESCRIPTOR_INVALID",
    ],
    [`{"schemaVersion":2,"mediaType":"text/plain","config":{}}`, "MANIFEST_UNSUPPORTED"],
  ];
  for (const [body, code] of cases) {
    assert.throws(
      () => parseManifest(Buffer.from(body), undefined, "fixture"),
      (e) => isPolypackError(e, code),
      body,
    );
  }
});

test("refuses a body whose media type contradicts the declared one", () => {
  const body = encodeJSON(buildImageManifest(config, [layer]));
  assert.throws(
    () => parseManifest(body, MediaType.ociIndex, "test"),
    (e) => isPolypackError(e, "MANIFEST_INVALID"),
  );
});

test("property: manifests built from arbitrary layers round trip through JSON byte for byte", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
      fc.dictionary(fc.string(), fc.string()),
      (layers, annotations) => {
        const manifest = buildImageManifest(
          config,
          layers.map((data) => descriptorFor(MediaType.ociLayerGzip, data)),
          Object.keys(annotations).length ? { annotations } : {},
        );
        const bytes = encodeJSON(manifest);
        const parsed = parseManifest(bytes, undefined, "property");
        assert.equal(parsed.kind, "image");
        if (parsed.kind === "image") assert.deepEqual(encodeJSON(parsed.manifest), bytes);
      },
    ),
  );
});
