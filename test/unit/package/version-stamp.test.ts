import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "smol-toml";
import { isPolypackError } from "../../../src/errors/index.js";
import { perTargetFile } from "../../../src/package/deliver.js";
import { stampVersion } from "../../../src/package/version-stamp.js";
import { Platform } from "../../../src/oci/platform.js";

const versionOf = (text: string, kind = "buildpack"): unknown =>
  (parse(text)[kind] as Record<string, unknown>)["version"];

test("--version replaces a {{.version}} template or a version in place, keeping comments and layout", () => {
  const text =
    '# top\napi = "0.10"\n\n[buildpack]\n  id = "x/y" # the id\n  version = "{{.version}}" # filled by the packager\n';
  const stamped = stampVersion(text, "buildpack", "1.2.3", "buildpack.toml");
  assert.equal(stamped, text.replace("{{.version}}", "1.2.3"));
  assert.equal(
    versionOf(
      stampVersion("[extension]\nid = 'e'\nversion = '0.0.1'\n", "extension", "2.0.0", "f"),
      "extension",
    ),
    "2.0.0",
  );
});

test("--version adds the version under [buildpack] when there is none, or writes the document anew when it cannot edit a line", () => {
  const added = stampVersion(
    'api = "0.10"\n[buildpack]\nid = "x/y"\n[metadata]\na = 1\n',
    "buildpack",
    "3.0.0",
    "f",
  );
  assert.equal(added, 'api = "0.10"\n[buildpack]\nversion = "3.0.0"\nid = "x/y"\n[metadata]\na = 1\n');
  const inline = stampVersion(
    'api = "0.10"\nbuildpack = { id = "x/y", version = "{{.version}}" }\n',
    "buildpack",
    "4.0.0",
    "f",
  );
  assert.equal(versionOf(inline), "4.0.0");
  assert.equal((parse(inline)["buildpack"] as Record<string, unknown>)["id"], "x/y");
});

test("a --version that cannot be a folder name is FLAG_INVALID", () => {
  for (const bad of ["", "../x", "1 2", 'a"b', ".hidden"]) {
    assert.throws(
      () => stampVersion('[buildpack]\nid = "x"\n', "buildpack", bad, "f"),
      (e) => isPolypackError(e, "FLAG_INVALID"),
      bad,
    );
  }
});

test("--per-target-files names files as pack does, adding the variant only where two targets would clash", () => {
  const p = (text: string): Platform => Platform.parse(text, "test");
  assert.equal(perTargetFile("out/bp.cnb", p("linux/amd64")), "out/bp-linux-amd64.cnb");
  assert.equal(perTargetFile("out/bp.cnb", p("linux/arm64/v8")), "out/bp-linux-arm64.cnb");
  assert.equal(perTargetFile("bp", p("linux/arm/v7"), true), "bp-linux-arm-v7");
});
