import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dependencyCoverage } from "../../../../src/buildpack/dependencies-coverage.js";
import { parseDependencies, type Dependency } from "../../../../src/buildpack/dependencies.js";
import { makeTarget } from "../../../../src/buildpack/targets.js";
import { addEntries } from "../../../../src/dependencies/authoring/add.js";
import type { Addition } from "../../../../src/dependencies/authoring/new-entry.js";
import { isPolypackError } from "../../../../src/errors/index.js";
import { Platform } from "../../../../src/oci/platform.js";
import { paketo } from "../../buildpack/paketo.js";

const HEX = "ab".repeat(32);
const SOURCE_HEX = "cd".repeat(32);

function addition(id: string, version: string, target: string, extra: Partial<Addition> = {}): Addition {
  return {
    id,
    version,
    platform: Platform.parse(target),
    uri: `https://downloads.example/${id}-${version}-${target.replace("/", "-")}.tgz`,
    sha256: HEX,
    ...extra,
  };
}

/** The one entry of `id` and `version` for `arch` in the text. */
function entry(text: string, id: string, version: string, arch: string): Dependency {
  const found = parseDependencies(text).filter(
    (d) => d.id === id && d.version === version && d.architecture === arch,
  );
  assert.equal(found.length, 1, `one ${id} ${version} for ${arch}`);
  return found[0]!;
}

/**
 * Asserts that `after` is `before` with lines inserted at one place and nothing else changed, byte
 * for byte, and returns the inserted lines.
 */
function insertedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const added = b.length - a.length;
  assert.ok(added > 0, "lines were added");
  assert.deepEqual(b.slice(i + added), a.slice(i), "every line after the insertion is the original's");
  return b.slice(i, i + added);
}

describe("addEntries", () => {
  test("packit (go-dist): copies the newest entry of the id, keeps comments and layout byte for byte", () => {
    // The real file with comments added where an editor would lose them: a header, above an entry, after a value.
    const original = paketo("go-dist")
      .replace('api = "0.7"', '# maintained by hand\napi = "0.7" # the buildpack API')
      .replace(
        '  [[metadata.dependencies]]\n    arch = "amd64"\n    checksum = "sha256:39042a',
        '  # the oldest 1.25 patch\n  [[metadata.dependencies]]\n    arch = "amd64" # GOARCH\n    checksum = "sha256:39042a',
      );
    const { text, added } = addEntries(original, "buildpack.toml", [
      addition("go", "1.25.15", "linux/arm64", {
        source: "https://go.dev/dl/go1.25.15.src.tar.gz",
        sourceSha256: SOURCE_HEX,
      }),
    ]);
    assert.equal(added.length, 1);
    const lines = insertedLines(original, text);
    assert.ok(lines.includes("  [[metadata.dependencies]]"), "written with the file's indentation");
    const d = entry(text, "go", "1.25.15", "arm64");
    assert.equal(d.architectureSource, "arch");
    assert.equal(d.os, "linux");
    assert.equal(d.raw["checksum"], `sha256:${HEX}`);
    assert.equal(d.raw["cpe"], "cpe:2.3:a:golang:go:1.25.15:*:*:*:*:*:*:*");
    assert.equal(
      d.raw["purl"],
      `pkg:generic/go@go1.25.15?checksum=${HEX}&download_url=https://downloads.example/go-1.25.15-linux-arm64.tgz`,
    );
    assert.equal(d.raw["source"], "https://go.dev/dl/go1.25.15.src.tar.gz");
    assert.equal(d.raw["source-checksum"], `sha256:${SOURCE_HEX}`);
    assert.deepEqual(d.raw["licenses"], ["BSD-3-Clause"]);
    assert.deepEqual(d.stacks, ["*"]);
    assert.equal(d.raw["strip-components"], 1);
    // Placed after the newest 1.25 entry, before 1.26: the file stays in version order.
    const versions = parseDependencies(text).map((x) => x.version);
    assert.deepEqual(versions.slice(0, 5), ["1.25.13", "1.25.13", "1.25.14", "1.25.14", "1.25.15"]);
  });

  test("a source that was not fetched keeps its substituted URL but loses the copied checksum", () => {
    const { text } = addEntries(paketo("go-dist"), "buildpack.toml", [
      addition("go", "1.26.9", "linux/amd64"),
    ]);
    const d = entry(text, "go", "1.26.9", "amd64");
    assert.equal(d.raw["source"], "https://go.dev/dl/go1.26.9.src.tar.gz");
    assert.equal(d.raw["source-checksum"], undefined);
  });

  test("the original RFC's dialect gets `architecture`, not `arch`", () => {
    const original = paketo("go-dist").replace(/^(\s*)arch = /gm, "$1architecture = ");
    const { text } = addEntries(original, "buildpack.toml", [addition("go", "1.26.9", "linux/arm64")]);
    insertedLines(original, text);
    const d = entry(text, "go", "1.26.9", "arm64");
    assert.equal(d.architectureSource, "architecture");
    assert.equal(d.raw["architecture"], "arm64");
    assert.equal(d.raw["arch"], undefined);
  });

  test("libpak (bellsoft-liberica): arch= in the purl, the legacy sha256 key, licence sub-tables copied", () => {
    const original = paketo("bellsoft-liberica");
    const { text } = addEntries(original, "buildpack.toml", [addition("jdk", "17.0.99", "linux/arm64")]);
    const lines = insertedLines(original, text);
    assert.ok(lines.some((line) => line.trim() === "[[metadata.dependencies.licenses]]"));
    const d = entry(text, "jdk", "17.0.99", "arm64");
    assert.equal(d.architectureSource, "purl");
    assert.equal(d.raw["sha256"], HEX);
    assert.equal(d.raw["checksum"], undefined);
    assert.equal(d.raw["arch"], undefined);
    assert.match(d.raw["purl"] as string, /@17\.0\.99\?arch=arm64$/);
    assert.deepEqual(d.raw["cpes"], ["cpe:2.3:a:oracle:jdk:17.0.99:*:*:*:*:*:*:*"]);
    assert.equal(d.raw["source-sha256"], undefined, "the old version's source checksum is not copied");
    const coverage = dependencyCoverage(parseDependencies(text), [
      makeTarget({ os: "linux", arch: "arm64" }),
    ]);
    const jdk = coverage.dependencies.find((c) => c.id === "jdk");
    assert.deepEqual(jdk?.versions.find((v) => v.version === "17.0.99")?.targets, ["linux/arm64"]);
  });

  test("an entry already there with the same checksum is left alone; with another it is a conflict", () => {
    const original = paketo("go-dist");
    const amd64 = entry(original, "go", "1.25.13", "amd64");
    const same = addEntries(original, "buildpack.toml", [
      addition("go", "1.25.13", "linux/amd64", { sha256: amd64.checksum!.hex }),
    ]);
    assert.equal(same.text, original);
    assert.equal(same.unchanged.length, 1);
    assert.throws(
      () => addEntries(original, "buildpack.toml", [addition("go", "1.25.13", "linux/amd64")]),
      (error) =>
        isPolypackError(error, "DEPENDENCY_ENTRY_CONFLICT") &&
        error.message.includes("[[metadata.dependencies]][0]"),
    );
  });

  test("a new id is written from scratch after the last entry, in the file's dialect", () => {
    const original = paketo("go-dist");
    const { text } = addEntries(original, "buildpack.toml", [addition("gopls", "0.20.0", "linux/arm64")]);
    insertedLines(original, text);
    const d = entry(text, "gopls", "0.20.0", "arm64");
    assert.deepEqual(
      { arch: d.raw["arch"], os: d.raw["os"], checksum: d.raw["checksum"] },
      { arch: "arm64", os: "linux", checksum: `sha256:${HEX}` },
    );
  });

  test("dependencies written as an inline array cannot be edited as text", () => {
    const original =
      'api = "0.10"\n[metadata]\ndependencies = [{ id = "a", version = "1.0.0", uri = "https://x/a.tgz" }]\n';
    assert.throws(
      () => addEntries(original, "buildpack.toml", [addition("a", "1.1.0", "linux/amd64")]),
      (error) => isPolypackError(error, "DEPENDENCY_EDIT_UNSUPPORTED"),
    );
  });

  test("CRLF files get CRLF lines", () => {
    const original = paketo("go-dist").replace(/\n/g, "\r\n");
    const { text } = addEntries(original, "buildpack.toml", [addition("go", "1.26.9", "linux/arm64")]);
    assert.ok(!/[^\r]\n/.test(text), "every line ends with CRLF");
    entry(text, "go", "1.26.9", "arm64");
  });
});

describe("addEntries: the purl's arch qualifier", () => {
  const file = (purlArch: { amd64: string; arm64?: string }): string =>
    [
      'api = "0.10"',
      "[buildpack]",
      'id = "x"',
      'version = "1"',
      "[[metadata.dependencies]]",
      'id = "tool"',
      'version = "1.0.0"',
      'os = "linux"',
      'arch = "amd64"',
      'uri = "https://downloads.example/tool-1.0.0-amd64.tgz"',
      `checksum = "sha256:${HEX}"`,
      `purl = "pkg:generic/tool@1.0.0?arch=${purlArch.amd64}"`,
      ...(purlArch.arm64 === undefined
        ? []
        : [
            "[[metadata.dependencies]]",
            'id = "tool"',
            'version = "1.0.0"',
            'os = "linux"',
            'arch = "arm64"',
            'uri = "https://downloads.example/tool-1.0.0-arm64.tgz"',
            `checksum = "sha256:${HEX}"`,
            `purl = "pkg:generic/tool@1.0.0?arch=${purlArch.arm64}"`,
          ]),
      "",
    ].join("\n");

  test("a version added for two targets gets each target's arch in its purl", () => {
    // The amd64 entry of the new version is added first; the arm64 one must not copy its purl.
    const { text } = addEntries(file({ amd64: "amd64", arm64: "arm64" }), "buildpack.toml", [
      addition("tool", "1.1.0", "linux/amd64"),
      addition("tool", "1.1.0", "linux/arm64"),
    ]);
    assert.equal(entry(text, "tool", "1.1.0", "amd64").raw["purl"], "pkg:generic/tool@1.1.0?arch=amd64");
    assert.equal(entry(text, "tool", "1.1.0", "arm64").raw["purl"], "pkg:generic/tool@1.1.0?arch=arm64");
  });

  test("a first arm64 entry copied from an amd64 one gets arm64, in the purl's own spelling", () => {
    const { text } = addEntries(file({ amd64: "x86_64" }), "buildpack.toml", [
      addition("tool", "1.1.0", "linux/arm64"),
    ]);
    assert.equal(entry(text, "tool", "1.1.0", "arm64").raw["purl"], "pkg:generic/tool@1.1.0?arch=aarch64");
  });
});
