import assert from "node:assert/strict";
import { test } from "node:test";
import { isPolypackError } from "../../../src/errors/index.js";
import { parseLabels, splitList } from "../../../src/cli/labels-flag.js";

test("--label NAME=VALUE: values may hold = and be empty; bad, repeated or reserved names are LABEL_INVALID", () => {
  assert.deepEqual(parseLabels(["a=1", "org.opencontainers.image.source=https://x/y?a=b", "empty="]), {
    a: "1",
    "org.opencontainers.image.source": "https://x/y?a=b",
    empty: "",
  });
  for (const bad of [["novalue"], ["=x"], ["a=1", "a=2"], ["io.buildpacks.buildpack.layers={}"]]) {
    assert.throws(
      () => parseLabels(bad),
      (error) => isPolypackError(error, "LABEL_INVALID"),
      bad.join(" "),
    );
  }
});

test("-l a=1,b=2 sets two labels (pack's list syntax); a comma not starting NAME= stays in the value", () => {
  assert.deepEqual(parseLabels(["a=1,b=2", "authors=Ann,Bob", "c=x,y=z"]), {
    a: "1",
    b: "2",
    authors: "Ann,Bob",
    c: "x",
    y: "z",
  });
  assert.deepEqual(splitList("v1, v2,,latest"), ["v1", "v2", "latest"]);
});
