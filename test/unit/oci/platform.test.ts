import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Platform, normalizeArchitecture } from "../../../src/oci/platform.js";
import { isPolypackError } from "../../../src/errors/index.js";

test("normalises architecture aliases", () => {
  const cases: [string, string][] = [
    ["linux/x86_64", "linux/amd64"],
    ["linux/x64", "linux/amd64"],
    ["linux/amd64", "linux/amd64"],
    ["linux/aarch64", "linux/arm64"],
    ["linux/arm64", "linux/arm64"],
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armv7", "linux/arm/v7"],
    ["linux/arm/v7", "linux/arm/v7"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/arm/v6", "linux/arm/v6"],
    ["Linux/AMD64", "linux/amd64"],
    ["linux/ppc64le", "linux/ppc64le"],
    ["linux/s390x", "linux/s390x"],
  ];
  for (const [input, expected] of cases) assert.equal(Platform.parse(input).toString(), expected, input);
  assert.deepEqual(normalizeArchitecture("x86_64"), { architecture: "amd64", variant: "" });
  assert.deepEqual(normalizeArchitecture("armhf"), { architecture: "arm", variant: "v7" });
});

test("refuses unknown and malformed platforms with PLATFORM_INVALID", () => {
  for (const bad of [
    "linux",
    "linux/",
    "/amd64",
    "linux/amd64/v8/x",
    "linux/sparc",
    "plan10/amd64",
    "linux/am d64",
    "",
  ]) {
    assert.throws(
      () => Platform.parse(bad, "--target"),
      (e) => isPolypackError(e, "PLATFORM_INVALID") && e.message.includes("--target"),
      bad,
    );
  }
});

test("empty fields match anything; set fields must be equal", () => {
  const arm64 = Platform.parse("linux/arm64");
  assert.ok(arm64.satisfies(new Platform({ os: "linux" })));
  assert.ok(arm64.satisfies(new Platform({})));
  assert.ok(!arm64.satisfies(Platform.parse("linux/amd64")));
  const armv7 = Platform.parse("linux/arm/v7");
  assert.ok(armv7.satisfies(new Platform({ os: "linux", architecture: "arm", variant: "" })));
  assert.ok(!armv7.satisfies(Platform.parse("linux/arm/v6")));
  const distro = new Platform({ os: "linux", architecture: "amd64", osVersion: "22.04" });
  assert.ok(distro.satisfies(Platform.parse("linux/amd64")));
  assert.ok(!Platform.parse("linux/amd64").satisfies(distro));
});

test("JSON round trip keeps os.version and variant, leaves out empty fields", () => {
  const platform = new Platform({ os: "linux", architecture: "arm", variant: "v7", osVersion: "22.04" });
  assert.deepEqual(platform.toJSON(), {
    architecture: "arm",
    os: "linux",
    "os.version": "22.04",
    variant: "v7",
  });
  assert.ok(Platform.fromJSON(platform.toJSON()).equals(platform));
  assert.deepEqual(Platform.parse("linux/amd64").toJSON(), { architecture: "amd64", os: "linux" });
});

test("host platform is concrete", () => {
  const host = Platform.host();
  assert.notEqual(host.os, "");
  assert.notEqual(host.architecture, "");
  assert.equal(host.os, process.platform === "win32" ? "windows" : process.platform);
});

test("property: printing then parsing a parsed platform is the identity", () => {
  const arch = fc.constantFrom(
    "amd64",
    "x86_64",
    "aarch64",
    "arm64",
    "arm",
    "armhf",
    "ppc64le",
    "s390x",
    "riscv64",
    "386",
  );
  const variant = fc.constantFrom("", "v5", "v6", "v7", "v8");
  fc.assert(
    fc.property(arch, variant, (a, v) => {
      const text = v ? `linux/${a}/${v}` : `linux/${a}`;
      const platform = Platform.parse(text);
      assert.ok(Platform.parse(platform.toString()).equals(platform));
    }),
  );
});

/** Platforms with every field either empty or one of a few values, so that fields often collide. */
const platforms = fc
  .record({
    os: fc.constantFrom("", "linux", "windows"),
    architecture: fc.constantFrom("", "amd64", "arm64", "arm"),
    variant: fc.constantFrom("", "v6", "v7"),
    osVersion: fc.constantFrom("", "22.04", "24.04"),
    osFeatures: fc.subarray(["win32k"]),
    features: fc.subarray(["sse4", "avx2", "sve"]),
  })
  .map((fields) => new Platform(fields));

/** `platform` with each field kept or emptied, as `keep` says: a looser requirement. */
function loosened(platform: Platform, keep: boolean[]): Platform {
  const [os, arch, variant, version, osFeatures, features] = keep;
  return new Platform({
    os: os ? platform.os : "",
    architecture: arch ? platform.architecture : "",
    // An empty variant on "arm" normalises to v7, so loosen the variant only away from arm.
    variant: variant || platform.architecture === "arm" ? platform.variant : "",
    osVersion: version ? platform.osVersion : "",
    osFeatures: osFeatures ? platform.osFeatures : [],
    features: features ? platform.features : [],
  });
}

test("satisfies is go-containerregistry's rule: wanted's empty fields match anything, its features must be present", () => {
  const wanted = new Platform({ os: "linux", architecture: "amd64", features: ["sse4"] });
  assert.ok(
    new Platform({ os: "linux", architecture: "amd64", features: ["avx2", "sse4"] }).satisfies(wanted),
  );
  assert.ok(!new Platform({ os: "linux", architecture: "amd64", features: ["avx2"] }).satisfies(wanted));
  const windows = new Platform({
    os: "windows",
    architecture: "amd64",
    osVersion: "10.0.17763.1",
    osFeatures: ["win32k"],
  });
  assert.ok(windows.satisfies(new Platform({ os: "windows", osFeatures: ["win32k"] })));
  assert.ok(!windows.satisfies(new Platform({ os: "windows", osVersion: "10.0.20348.1" })));
  assert.ok(!Platform.parse("linux/arm/v6").satisfies(Platform.parse("linux/arm/v7")));
});

test("property: a platform satisfies itself and anything looser; satisfying implies overlapping", () => {
  fc.assert(
    fc.property(platforms, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (platform, keep) => {
      assert.ok(platform.satisfies(platform));
      assert.ok(platform.satisfies(new Platform({})));
      const looser = loosened(platform, keep);
      assert.ok(platform.satisfies(looser));
      assert.ok(platform.overlaps(looser) && looser.overlaps(platform));
    }),
  );
});

test("property: overlaps is symmetric, and is satisfies once the fields either side leaves empty are ignored", () => {
  fc.assert(
    fc.property(platforms, platforms, (a, b) => {
      assert.equal(a.overlaps(b), b.overlaps(a));
      if (a.satisfies(b) || b.satisfies(a)) assert.ok(a.overlaps(b));
      const agree = (x: string, y: string): boolean => x === "" || y === "" || x === y;
      const strings =
        agree(a.os, b.os) &&
        agree(a.architecture, b.architecture) &&
        agree(a.variant, b.variant) &&
        agree(a.osVersion, b.osVersion);
      if (!strings) assert.ok(!a.overlaps(b));
    }),
  );
});

test("feature lists round-trip through JSON and compare as sets", () => {
  const json = { architecture: "amd64", os: "windows", "os.features": ["win32k"], features: ["b", "a"] };
  const platform = Platform.fromJSON(json);
  assert.deepEqual(platform.toJSON(), json);
  assert.ok(platform.equals(platform.with({ features: ["a", "b"] })));
  assert.ok(!platform.equals(platform.with({ features: ["a"] })));
});
