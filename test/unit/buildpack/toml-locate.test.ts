import assert from "node:assert/strict";
import { test } from "node:test";
import { formatKeyPath } from "../../../src/buildpack/toml-document.js";
import { splitDottedKey, TomlLocator } from "../../../src/buildpack/toml-locate.js";

const TEXT = [
  'api = "0.10"', // 1
  "# [[targets]] in a comment is not a header", // 2
  "[buildpack]", // 3
  '  id = "a/b"', // 4
  '  description = """', // 5
  "[[targets]]", // 6 (inside a multi-line string)
  '"""', // 7
  "[metadata]", // 8
  "  include-files = [", // 9
  '    "[not-a-header]",', // 10
  "  ]", // 11
  "  [[metadata.dependencies]]", // 12
  '    id = "one"', // 13
  "    [[metadata.dependencies.licenses]]", // 14
  '      type = "MIT"', // 15
  "  [[metadata.dependencies]]", // 16
  '    id = "two"', // 17
  "    [[metadata.dependencies.licenses]]", // 18
  '      type = "A"', // 19
  "    [[metadata.dependencies.licenses]]", // 20
  '      type = "B" # a comment', // 21
  '  "quoted.key" = 1', // 22
  "[[targets]]", // 23
  'os = "linux"', // 24
  "distros = [", // 25
  '  { name = "ubuntu" },', // 26
  '  { name = "debian" },', // 27
  "]", // 28
  'stacks = [{ id = "*" }]', // 29
].join("\n");

test("finds keys, tables and array-of-table entries by path", () => {
  const locator = new TomlLocator(TEXT);
  const cases: [readonly (string | number)[], number][] = [
    [["api"], 1],
    [["buildpack"], 3],
    [["buildpack", "id"], 4],
    [["buildpack", "description"], 5],
    [["metadata", "include-files"], 9],
    [["metadata", "dependencies", 0], 12],
    [["metadata", "dependencies", 0, "id"], 13],
    [["metadata", "dependencies", 0, "licenses", 0, "type"], 15],
    [["metadata", "dependencies", 1, "id"], 17],
    [["metadata", "dependencies", 1, "licenses", 1, "type"], 21],
    [["metadata", "dependencies", 1, "licenses", 1, "quoted.key"], 22],
    [["targets", 0], 23],
    [["targets", 0, "os"], 24],
    [["targets", 0, "distros", 1], 27],
    [["targets", 0, "stacks", 0], 29],
  ];
  for (const [path, line] of cases) assert.equal(locator.lineOf(path), line, JSON.stringify(path));
});

test("falls back to the nearest ancestor, and to undefined", () => {
  const locator = new TomlLocator(TEXT);
  assert.equal(locator.lineOf(["buildpack", "version"]), 3);
  assert.equal(locator.lineOf(["targets", 0, "arch"]), 23);
  assert.equal(locator.lineOf(["targets", 0, "distros", 0, "version"]), 26);
  assert.equal(locator.lineOf(["order", 0]), undefined);
});

test("splits dotted keys with quotes", () => {
  assert.deepEqual(splitDottedKey('a."b.c". d'), ["a", "b.c", "d"]);
  assert.deepEqual(splitDottedKey("metadata.dependencies"), ["metadata", "dependencies"]);
});

test("formats key paths the way TOML reads", () => {
  assert.equal(formatKeyPath(["api"]), "api");
  assert.equal(formatKeyPath(["buildpack", "id"]), "[buildpack].id");
  assert.equal(formatKeyPath(["targets", 1, "arch"]), "[[targets]][1].arch");
  assert.equal(formatKeyPath(["targets", 1]), "[[targets]][1]");
  assert.equal(
    formatKeyPath(["metadata", "dependencies", 2, "licenses", 0, "type"]),
    "[[metadata.dependencies]][2].licenses[0].type",
  );
});
