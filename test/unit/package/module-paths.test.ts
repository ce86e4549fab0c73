import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBuildpackToml } from "../../../src/buildpack/descriptor.js";
import { isPolypackError } from "../../../src/errors.js";
import { parseModuleLayers } from "../../../src/buildpack/label-parse.js";
import { planPackage } from "../../../src/package/plan.js";
import { selectTargets } from "../../../src/package/plan-targets.js";
import { buildpackToml, targetsToml } from "./helpers.js";

const DIFF_ID = `sha256:${"0".repeat(64)}`;

test("a hand-built descriptor with id '..' and version 'lifecycle' never becomes a layer root", () => {
  const descriptor = parseBuildpackToml(buildpackToml(targetsToml("linux/amd64")));
  const selection = selectTargets(descriptor, { hasRootBin: false });
  const options = { missingBinaries: "warn" } as const;
  assert.equal(
    planPackage(descriptor, selection, [], options).layerRoot,
    "cnb/buildpacks/example_hello/1.0.0",
  );
  for (const [id, version, code] of [
    ["..", "lifecycle", "BUILDPACK_ID_INVALID"],
    ["example/hello", "../../lifecycle", "BUILDPACK_VERSION_INVALID"],
    ["example/hello", "..", "BUILDPACK_VERSION_INVALID"],
  ] as const) {
    const forged = { ...descriptor, info: { ...descriptor.info, id, version } };
    assert.throws(
      () => planPackage(forged, selection, [], options),
      (e) => isPolypackError(e, code) && e.message.startsWith("buildpack.toml: [buildpack] "),
      `${id}@${version}`,
    );
  }
});

test("an included image's layers label may not name '..' ids or versions, nor order them", () => {
  const where = "oci:dep label io.buildpacks.buildpack.layers";
  const label = (value: unknown): string => JSON.stringify(value);
  const good = { "a/b": { "1.0.0": { api: "0.10", layerDiffID: DIFF_ID } } };
  assert.deepEqual(Object.keys(parseModuleLayers(label(good), where)), ["a/b"]);
  const texts = [
    { "..": { lifecycle: { api: "0.10", layerDiffID: DIFF_ID } } },
    { "a/b": { "../../lifecycle": { api: "0.10", layerDiffID: DIFF_ID } } },
    { "a/b": { "1.0.0": { api: "0.10", layerDiffID: DIFF_ID, order: [{ group: [{ id: "../x" }] }] } } },
  ].map(label);
  // JSON.parse makes `__proto__` an own key; using it as one would replace the object's prototype.
  texts.push(`{"__proto__":{"1.0.0":{"api":"0.10","layerDiffID":"${DIFF_ID}"}}}`);
  for (const text of texts) {
    assert.throws(
      () => parseModuleLayers(text, where),
      (e) => isPolypackError(e, "LABEL_INVALID") && e.message.startsWith(`${where}: `),
      text,
    );
  }
});
