import assert from "node:assert/strict";
import { test } from "node:test";
import { parseExtensionToml } from "../../../src/buildpack/descriptor.js";
import { checkModuleReference } from "../../../src/buildpack/module-id.js";
import { isPolypackError } from "../../../src/errors.js";

test("ids: namespaced names pass; '.', '..' and empty segments, other characters and reserved names do not", () => {
  for (const id of ["paketo-buildpacks/node-engine", "io.buildpacks.ruby", "a/b/c", "...", "a..b", "App"]) {
    assert.deepEqual(checkModuleReference("buildpack", id, "1.0.0"), [], id);
  }
  for (const id of [
    "",
    ".",
    "..",
    "../x",
    "x/..",
    "a/./b",
    "/a",
    "a/",
    "a//b",
    "a_b",
    "a b",
    "app",
    "config",
    "sbom",
  ]) {
    const problems = checkModuleReference("buildpack", id, "1.0.0");
    assert.deepEqual(
      problems.map((p) => [p.key, p.code]),
      [["id", "BUILDPACK_ID_INVALID"]],
      JSON.stringify(id),
    );
    assert.ok(problems[0]!.hint.length > 0);
  }
});

test("the image extension spec reserves app and config, not sbom", () => {
  assert.equal(checkModuleReference("extension", "app").length, 1);
  assert.equal(checkModuleReference("extension", "config").length, 1);
  assert.deepEqual(checkModuleReference("extension", "sbom"), []);
});

test("versions: one folder name, or not given at all", () => {
  for (const version of [undefined, "1.2.3", "v1", "1.0.0-rc.1+build.5", "latest", "..."]) {
    assert.deepEqual(checkModuleReference("buildpack", "a/b", version), [], String(version));
  }
  for (const version of ["", ".", "..", "1/2", "../lifecycle", "1.0\u0000", "1\n2"]) {
    assert.deepEqual(
      checkModuleReference("buildpack", "a/b", version).map((p) => [p.key, p.code]),
      [["version", "BUILDPACK_VERSION_INVALID"]],
      JSON.stringify(version),
    );
  }
  assert.equal(checkModuleReference("buildpack", "..", "..").length, 2, "both reported");
});

test("extension.toml: id '..' with version 'lifecycle' is refused at the id's line", () => {
  const toml = 'api = "0.10"\n\n[extension]\n  id = ".."\n  version = "lifecycle"\n';
  assert.throws(
    () => parseExtensionToml(toml),
    (e) =>
      isPolypackError(e, "BUILDPACK_ID_INVALID") &&
      e.message.startsWith('extension.toml:4: [extension].id: invalid id ".."'),
  );
  assert.throws(
    () => parseExtensionToml(toml.replace('".."', '"tree"').replace('"lifecycle"', '"../../lifecycle"')),
    (e) => isPolypackError(e, "BUILDPACK_VERSION_INVALID") && e.message.startsWith("extension.toml:5: "),
  );
});
