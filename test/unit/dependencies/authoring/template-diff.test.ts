import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { expandTemplate, parseArchNames } from "../../../../src/dependencies/authoring/template.js";
import { unifiedDiff } from "../../../../src/dependencies/authoring/unified-diff.js";
import { isPolypackError } from "../../../../src/errors/index.js";
import { Platform } from "../../../../src/oci/platform.js";

const amd64 = Platform.parse("linux/amd64");
const arm64 = Platform.parse("linux/arm64");

describe("expandTemplate", () => {
  test("fills in version, os and the architecture in each upstream spelling", () => {
    const template = "https://x/{version}/{os}-{arch}-{arch:x64}-{arch:x86_64}.tgz";
    assert.equal(
      expandTemplate(template, { version: "1.2.3", platform: amd64 }),
      "https://x/1.2.3/linux-amd64-x64-x86_64.tgz",
    );
    assert.equal(
      expandTemplate(template, { version: "1.2.3", platform: arm64 }),
      "https://x/1.2.3/linux-arm64-arm64-aarch64.tgz",
    );
  });

  test("--arch-name overrides what {arch} gives, written in any alias", () => {
    const archNames = parseArchNames(["x86_64=x64", "arm64=aarch64"]);
    assert.deepEqual(archNames, { amd64: "x64", arm64: "aarch64" });
    assert.equal(expandTemplate("{arch}", { version: "1", platform: amd64, archNames }), "x64");
    assert.equal(expandTemplate("{arch}", { version: "1", platform: arm64, archNames }), "aarch64");
  });

  test("an unknown placeholder or a malformed --arch-name is a usage error naming it", () => {
    assert.throws(
      () => expandTemplate("https://x/{versoin}.tgz", { version: "1", platform: amd64 }),
      (error) => isPolypackError(error, "FLAG_INVALID") && error.message.includes("{versoin}"),
    );
    assert.throws(
      () => parseArchNames(["amd64"]),
      (error) => isPolypackError(error, "FLAG_INVALID"),
    );
  });
});

describe("unifiedDiff", () => {
  test("equal texts give no diff", () => {
    assert.equal(unifiedDiff("a\nb\n", "a\nb\n", "f"), "");
  });

  test("an insertion and a change come out as diff -u prints them", () => {
    const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", ""].join("\n");
    const after = ["1", "2", "3", "3a", "4", "5", "6", "7", "8", "nine", "10", ""].join("\n");
    assert.equal(
      unifiedDiff(before, after, "f"),
      [
        "--- a/f",
        "+++ b/f",
        "@@ -1,10 +1,11 @@",
        " 1",
        " 2",
        " 3",
        "+3a",
        " 4",
        " 5",
        " 6",
        " 7",
        " 8",
        "-9",
        "+nine",
        " 10",
        "",
      ].join("\n"),
    );
  });

  test("changes far apart make separate hunks with their own line numbers", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const changed = [...lines];
    changed[1] = "two";
    changed.splice(25, 1);
    const diff = unifiedDiff(`${lines.join("\n")}\n`, `${changed.join("\n")}\n`, "f");
    assert.match(diff, /^@@ -1,5 \+1,5 @@$/m);
    assert.match(diff, /^@@ -23,7 \+23,6 @@$/m);
    assert.match(diff, /^-line 26$/m);
  });
});
