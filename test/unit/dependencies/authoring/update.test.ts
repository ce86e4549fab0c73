import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDependencies } from "../../../../src/buildpack/dependencies.js";
import { parseMetadataJson, updateEntries } from "../../../../src/dependencies/authoring/update.js";
import { isPolypackError } from "../../../../src/errors/index.js";
import { paketo } from "../../buildpack/paketo.js";

function go(version: string, arch: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "go",
    name: "Go",
    version,
    os: "linux",
    arch,
    uri: `https://go.dev/dl/go${version}.linux-${arch}.tar.gz`,
    checksum: `sha256:${"ef".repeat(32)}`,
    stacks: ["*"],
    licenses: ["BSD-3-Clause"],
    "strip-components": 1,
    deprecation_date: "2027-02-01T00:00:00Z",
    ...extra,
  };
}

const platforms = (text: string, version: string): string[] =>
  parseDependencies(text)
    .filter((d) => d.version === version)
    .map((d) => d.architecture)
    .sort();

describe("updateEntries", () => {
  test("keeps the newest `patches` versions per constraint, (version, os, arch) distinct", () => {
    const original = paketo("go-dist");
    const metadata = parseMetadataJson(
      JSON.stringify([
        go("1.25.15", "amd64"),
        go("1.25.15", "arm64"),
        go("1.26.8", "amd64"),
        go("1.24.9", "amd64"),
      ]),
      "metadata.json",
    );
    const outcome = updateEntries(original, "buildpack.toml", metadata);
    // 1.25.*: 1.25.14 and 1.25.15 stay (patches = 2); 1.26.*: 1.26.7 and 1.26.8 (amd64 only).
    assert.deepEqual(platforms(outcome.text, "1.25.13"), []);
    assert.deepEqual(platforms(outcome.text, "1.25.14"), ["amd64", "arm64"]);
    assert.deepEqual(platforms(outcome.text, "1.25.15"), ["amd64", "arm64"]);
    assert.deepEqual(platforms(outcome.text, "1.26.6"), []);
    assert.deepEqual(platforms(outcome.text, "1.26.7"), ["amd64", "arm64"]);
    assert.deepEqual(platforms(outcome.text, "1.26.8"), ["amd64"]);
    assert.equal(outcome.removed.length, 4);
    assert.equal(outcome.added.length, 3);
    assert.match(outcome.skipped.join("\n"), /1\.24\.9 .*matches none of the dependency-constraints/);
    // Written as a TOML date, keys sorted as the file's own entries are.
    const added = parseDependencies(outcome.text).find((d) => d.version === "1.26.8")!;
    assert.ok(added.raw["deprecation_date"] instanceof Date);
    assert.deepEqual(Object.keys(added.raw), [...Object.keys(added.raw)].sort());
    // Outside the dependency entries, the file is as it was.
    const tail = (text: string): string => text.slice(text.indexOf("[[metadata.dependency-constraints]]"));
    assert.equal(tail(outcome.text), tail(original));
    assert.equal(outcome.text.slice(0, 600), original.slice(0, 600));
  });

  test("running it again changes nothing", () => {
    const metadata = parseMetadataJson(
      JSON.stringify([go("1.25.15", "amd64"), go("1.25.15", "arm64")]),
      "m.json",
    );
    const once = updateEntries(paketo("go-dist"), "buildpack.toml", metadata);
    const twice = updateEntries(once.text, "buildpack.toml", metadata);
    assert.equal(twice.text, once.text);
    assert.deepEqual([twice.added, twice.removed], [[], []]);
  });

  test("an entry already there with another checksum is reported and the file's kept", () => {
    const original = paketo("go-dist");
    const metadata = parseMetadataJson(JSON.stringify([go("1.25.14", "amd64")]), "m.json");
    const outcome = updateEntries(original, "buildpack.toml", metadata);
    assert.equal(outcome.text, original);
    assert.match(outcome.skipped[0] ?? "", /already in buildpack\.toml with checksum sha256:a21ae/);
  });

  test("a metadata.json that is not an array of entries with id, version, uri and checksum is refused", () => {
    for (const text of [
      "{}",
      "[1]",
      JSON.stringify([{ id: "go", version: "1" }]),
      JSON.stringify([go("1.0.0", "amd64", { checksum: "nope" })]),
      "[{",
    ]) {
      assert.throws(
        () => parseMetadataJson(text, "m.json"),
        (error) => isPolypackError(error, "DEPENDENCY_METADATA_INVALID"),
      );
    }
    assert.throws(
      () => parseMetadataJson(JSON.stringify([go("1.0.0", "sparc")]), "m.json"),
      (error) => isPolypackError(error, "DEPENDENCY_METADATA_INVALID") && /sparc/.test(error.message),
    );
  });
});
