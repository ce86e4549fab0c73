import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError, type ErrorCode } from "../../../src/errors/index.js";
import { isImageDependency, parsePackageToml } from "../../../src/buildpack/package-config.js";
import { targetKey } from "../../../src/buildpack/targets.js";

test("reads package.toml: buildpack uri, dependencies, platform and targets", () => {
  const config = parsePackageToml(
    [
      "[buildpack]",
      'uri = "."',
      "[[dependencies]]",
      'uri = "../go-dist"',
      "[[dependencies]]",
      'image = "gcr.io/paketo-buildpacks/node-engine:5"',
      "[platform]",
      'os = "linux"',
      "[[targets]]",
      'os = "linux"',
      'arch = "amd64"',
      "[[targets]]",
      'os = "linux"',
      'arch = "aarch64"',
    ].join("\n"),
  );
  assert.equal(config.kind, "buildpack");
  assert.equal(config.uri, ".");
  assert.deepEqual(config.dependencies, [
    { uri: "../go-dist" },
    { image: "gcr.io/paketo-buildpacks/node-engine:5" },
  ]);
  assert.deepEqual(config.dependencies.map(isImageDependency), [false, true]);
  assert.equal(config.os, "linux");
  assert.deepEqual(config.targets.map(targetKey), ["linux/amd64", "linux/arm64"]);
});

test("reads an extension's package.toml and defaults the os to linux", () => {
  const config = parsePackageToml('[extension]\nuri = "tree"\n');
  assert.equal(config.kind, "extension");
  assert.equal(config.uri, "tree");
  assert.equal(config.os, "linux");
  assert.deepEqual(config.targets, []);
});

const BAD: { name: string; toml: string; code: ErrorCode; line: number; key: string }[] = [
  {
    name: "syntax",
    toml: "[buildpack]\nuri = \n",
    code: "PACKAGE_TOML_INVALID",
    line: 2,
    key: "invalid TOML",
  },
  { name: "no uri", toml: "[buildpack]\n", code: "PACKAGE_TOML_INVALID", line: 1, key: "[buildpack].uri" },
  {
    name: "nothing to package",
    toml: '[platform]\nos = "linux"\n',
    code: "PACKAGE_TOML_INVALID",
    line: 0,
    key: "[buildpack].uri",
  },
  {
    name: "both kinds",
    toml: '[buildpack]\nuri = "."\n[extension]\nuri = "."\n',
    code: "PACKAGE_TOML_INVALID",
    line: 3,
    key: "[extension]",
  },
  {
    name: "uri and image",
    toml: '[buildpack]\nuri = "."\n[[dependencies]]\nuri = "a"\nimage = "b"\n',
    code: "PACKAGE_TOML_INVALID",
    line: 5,
    key: "[[dependencies]][0].image",
  },
  {
    name: "empty dependency",
    toml: '[buildpack]\nuri = "."\n[[dependencies]]\n',
    code: "PACKAGE_TOML_INVALID",
    line: 3,
    key: "[[dependencies]][0]",
  },
  {
    name: "bad os",
    toml: '[buildpack]\nuri = "."\n[platform]\nos = "darwin"\n',
    code: "PACKAGE_TOML_INVALID",
    line: 4,
    key: "[platform].os",
  },
  {
    name: "bad arch",
    toml: '[buildpack]\nuri = "."\n[[targets]]\nos = "linux"\narch = "armz"\n',
    code: "PACKAGE_TARGET_INVALID",
    line: 5,
    key: '[[targets]][0].arch: unknown architecture "armz"',
  },
  {
    name: "duplicate target",
    toml: '[buildpack]\nuri = "."\n[[targets]]\narch = "arm64"\n[[targets]]\narch = "aarch64"\n',
    code: "PACKAGE_TARGET_DUPLICATE",
    line: 5,
    key: "[[targets]][1]",
  },
];

for (const row of BAD) {
  test(`refuses package.toml: ${row.name}`, () => {
    assert.throws(
      () => parsePackageToml(row.toml, { file: "pkg/package.toml" }),
      (e) => {
        assert.ok(isPolypackError(e, row.code), String(e));
        const where = row.line === 0 ? "pkg/package.toml: " : `pkg/package.toml:${row.line}: `;
        assert.ok(e.message.startsWith(where), e.message);
        assert.ok(e.message.includes(row.key), e.message);
        return true;
      },
    );
  });
}
